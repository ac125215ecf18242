import type { Readable, Writable } from 'node:stream';
import type { ZodType } from 'zod';
import type { AssetMetadata, CapViolation, OutputRole } from '@kiln/shared';

export interface OutputOptions {
  role: OutputRole;
  contentType: string;
  /** A file name for downloads (`Content-Disposition`); the storage key is made by the server. */
  filename: string;
}

/** An asset the renderer may read as input (always one of the job's own company). */
export interface InputAsset {
  id: string;
  contentType: string;
  byteSize: number;
  metadata: AssetMetadata;
  stream: Readable;
}

/**
 * What a renderer gets from the runtime. Renderers are pure: no HTTP, SQL or tenants; everything
 * they touch outside their own process memory comes through here.
 */
export interface RenderContext {
  /** Fires on cancel and on timeout; a renderer stops promptly and kills any child process. */
  signal: AbortSignal;
  /** Reports real progress, `fraction` in 0..1, `stage` a short word ("layout", "encode"). */
  progress(fraction: number, stage: string): void;
  /** Opens a stream into storage for one output; the bytes go to storage as they are written. */
  output(options: OutputOptions): Writable;
  /** Reads an earlier asset of the same company; rejects with code `asset_not_found` otherwise. */
  readAsset(assetId: string): Promise<InputAsset>;
  /** A private scratch directory, removed after the job. */
  tmpDir: string;
  log(line: string): void;
  /**
   * Persists small JSON (at most 64 KiB) on the job, written with a progress event, so that an
   * attempt retried after a lost worker can continue instead of starting over — e.g. the id of a
   * remote job already paid for. Resolves once it is stored.
   */
  checkpoint(state: unknown): Promise<void>;
  /** The last checkpoint an earlier attempt of this job stored, if any. */
  resume?: unknown;
  /**
   * Something in the input was not rendered as written (raw HTML shown as text, an image scaled
   * down, text shrunk to fit). Recorded on the job as `warnings[]`, shown to the caller.
   */
  warn(message: string): void;
}

export interface RenderResult {
  /** Metadata per output role (width/height/durationMs/pages …), recorded on the asset rows. */
  metadata?: Partial<Record<OutputRole, AssetMetadata>>;
}

/**
 * Where a kind runs. `render-process` (the default): anything that parses or draws user content,
 * in a child process with a memory ceiling. `worker`: async work that only waits on the network
 * (provider kinds) or does nothing heavy, in the worker process itself — no process hop, and its
 * own slots (`slots`), so it never occupies a render process.
 */
export type RunsIn = 'render-process' | 'worker';

export interface Renderer<Input = unknown> {
  kind: string;
  runsIn?: RunsIn;
  /** For kinds that run in the worker: the slot group they share and how many run at once per worker process. */
  slots?: { group: string; size: number };
  /** The job's `timeoutMs` when the request gives none (default: DEFAULT_JOB_TIMEOUT_MS). */
  defaultTimeoutMs?: number;
  /**
   * For kinds that run in the worker and write bytes they did not make (a remote API's image,
   * audio or video): after the render, a render process reads each primary output back, checks
   * that it decodes, measures it (width, height, duration …) and writes its `preview`, as the
   * local kinds do — so the worker process never decodes untrusted bytes itself.
   */
  previewOutputs?: boolean;
  description: string;
  /** Validates (and defaults) the job's `input`; exposed as JSON Schema by `GET /api/renderers`. */
  inputSchema: ZodType<Input>;
  /** A working input as a caller sends it (defaults may be left out), shown to users and exercised by tests. */
  example: unknown;
  /** Asset ids the input refers to; the API checks they belong to the company before queueing. */
  assetRefs?(input: Input): string[] | Promise<string[]>;
  /** Checks that need more than the schema (e.g. compiling a chart spec); throw RenderError. */
  preflight?(input: Input): Promise<void> | void;
  render(input: Input, ctx: RenderContext): Promise<RenderResult | void>;
  /** Releases what the renderer keeps between jobs (a browser); called before its process ends. */
  close?(): Promise<void>;
  /** Loads the code and libraries this kind needs, if they are loaded lazily (see lazyRenderer). */
  load?(): Promise<void>;
}

/**
 * A renderer's failure. `retryable` failures go back to the queue with backoff; others fail the
 * job at once (bad input will not get better by trying again).
 */
export class RenderError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly options: {
      retryable?: boolean;
      details?: unknown;
      /** Retry no sooner than this (a remote API's Retry-After). */
      retryAfterMs?: number;
      /** The retry does not spend one of the job's attempts (the remote side asked us to wait: 429). */
      freeRetry?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'RenderError';
  }
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
}

/**
 * The kind's input as its schema reads it, or `validation_failed` (never retried) naming the
 * fields. The same check wherever a kind runs: a render process, the worker, a preflight.
 */
export function parseRenderInput(renderer: Pick<Renderer, 'kind' | 'inputSchema'>, input: unknown): unknown {
  const parsed = renderer.inputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new RenderError('validation_failed', `Invalid input for kind "${renderer.kind}".`, {
    details: parsed.error.issues.map((i) => ({ path: ['input', ...i.path.map(String)], message: i.message })),
  });
}

/** A 400 `validation_failed` for inputs over published caps; never retried. */
export function capsExceeded(violations: CapViolation[], message?: string): RenderError {
  const first = violations[0];
  return new RenderError(
    'validation_failed',
    message ?? (violations.length === 1 && first ? `Over a limit: ${first.message}` : `The input is over ${violations.length} limits.`),
    { details: violations },
  );
}

/** Throws the signal's reason when it has fired; call between stages. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
}

export function defineRenderer<Input>(renderer: Renderer<Input>): Renderer<Input> {
  return renderer;
}
