import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { about } from '@kiln/shared';
import { RenderError, type OutputOptions, type RenderContext, type Renderer } from '@kiln/renderers';
import { JobAbort } from '../worker/job-runner.js';
import type { ProviderConfig, ProviderKind } from './provider-config.js';
import type { OpenAiClient } from './openai-client.js';
import type { createProviderLimiter } from './provider-limiter.js';

/** One configured provider as the kinds use it: its settings, its HTTP client, its in-process limit. */
export interface ProviderHandle {
  config: ProviderConfig;
  client: OpenAiClient;
  limiter: ReturnType<typeof createProviderLimiter>;
}

/**
 * What every provider kind shares: it runs in the worker (it only waits on the network) in the
 * slot group of its default provider, sized by that provider's `maxConcurrent`; its outputs are
 * measured and previewed in a render process (`previewOutputs`); its `provider` input is narrowed to
 * the providers configured for the kind (the first is the default).
 */
export function providerKindBase(kind: ProviderKind, serving: ProviderHandle[]) {
  const names = serving.map((h) => h.config.name) as [string, ...string[]];
  const first = serving[0]!;
  const providerField = about(
    z.enum(names).optional(),
    'Provider',
    `Which configured model provider runs the job: ${names.join(', ')} (default: ${first.config.name}).`,
  );
  return {
    names,
    fields: { provider: providerField },
    renderer: {
      runsIn: 'worker',
      slots: { group: first.config.name, size: first.config.maxConcurrent },
      previewOutputs: true,
    } satisfies Partial<Renderer>,
    /** The provider a job asked for (or the default), and the model to send (none: the provider's default). */
    pick(input: { provider?: string; model?: string }): { handle: ProviderHandle; model: string | undefined } {
      const handle = serving.find((h) => h.config.name === (input.provider ?? first.config.name));
      if (!handle) throw new RenderError('validation_failed', `No provider named ${input.provider} serves ${kind}.`);
      return { handle, model: input.model ?? handle.config.models[kind] };
    },
  };
}

/**
 * Runs `work` while holding one of the provider's in-process slots, with what to do when the job
 * stops: `onEnded` runs when the job is canceled or timed out, or fails for good — never when the
 * worker is shutting down or lost the job, since the next attempt resumes what this one began.
 */
export async function withProvider<T>(handle: ProviderHandle, ctx: RenderContext, work: () => Promise<T>, onEnded?: () => Promise<void>): Promise<T> {
  const release = await handle.limiter.acquire(ctx.signal);
  try {
    return await work();
  } catch (err) {
    if (onEnded && endsTheJob(ctx.signal, err)) await onEnded().catch((e) => ctx.log(`could not clean up at ${handle.config.name}: ${String(e)}`));
    throw ctx.signal.aborted ? ctx.signal.reason : err;
  } finally {
    release();
  }
}

function endsTheJob(signal: AbortSignal, err: unknown): boolean {
  if (signal.aborted) {
    const reason = signal.reason;
    return reason instanceof JobAbort ? reason.cause === 'canceled' || reason.cause === 'timeout' : false;
  }
  return err instanceof RenderError && !err.retryable;
}

/** Waits `ms`, or until the job is aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Streams a provider's answer into one output; a broken connection is the provider's failure (retried). */
export async function streamToOutput(ctx: RenderContext, body: Readable, options: OutputOptions, provider: ProviderConfig, what: string): Promise<void> {
  try {
    await pipeline(body, ctx.output(options), { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (err instanceof RenderError) throw err;
    throw new RenderError('provider_error', `${provider.name}: the answer to ${what} broke off (${(err as Error).message})`, { retryable: true });
  }
}

/** Reads the first `n` bytes of a stream without losing them: the head, and a stream of everything. */
export async function peek(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < n) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.from(next.value);
    chunks.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(chunks, size);
  async function* all() {
    yield head;
    if (ended) return;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  }
  const stream = Readable.from(all(), { objectMode: false });
  stream.once('close', () => void it.return?.());
  return { head, stream };
}

/** What an image's first bytes say it is (PNG, JPEG, WebP), or null. Reading a magic number is not decoding. */
export function sniffImage(head: Buffer): { format: 'png' | 'jpeg' | 'webp'; contentType: string; extension: string } | null {
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return { format: 'png', contentType: 'image/png', extension: 'png' };
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { format: 'jpeg', contentType: 'image/jpeg', extension: 'jpg' };
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') {
    return { format: 'webp', contentType: 'image/webp', extension: 'webp' };
  }
  return null;
}

/** A provider's `usage` as numbers only (one level of nesting), so metadata stays small and plain. */
export function plainUsage(usage: unknown): Record<string, unknown> | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(usage as Record<string, unknown>).slice(0, 20)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const inner = Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x === 'number' && Number.isFinite(x)).slice(0, 20));
      if (Object.keys(inner).length > 0) out[k] = inner;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
