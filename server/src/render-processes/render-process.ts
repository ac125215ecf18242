import { Readable, Writable } from 'node:stream';
import {
  builtInRenderers, createRendererRegistry, INSPECT_UPLOAD_KIND, loadUploadInspector, parseRenderInput, RenderError,
  type InputAsset, type InspectUploadInput, type RenderContext, type Renderer,
} from '@kiln/renderers';
import { OUTPUT_WINDOW_BYTES, type FromRenderProcess, type SerializedRenderError, type ToRenderProcess } from './render-protocol.js';

/**
 * A render process: a child `node` process that runs one render (or one input validation) at a
 * time, so that a native abort or an out-of-memory in resvg, sharp, vega or satori costs one job,
 * not the server. It holds no database connection and no credentials (its environment is reduced
 * by the parent); storage and assets reach it only through the parent over IPC.
 *
 * When its parent goes away (SIGKILL included) the IPC channel closes and the process exits at
 * once; the media tools it started hold a pipe from it and die with it (see run-process.ts).
 */
if (!process.send) throw new Error('render-process.ts must be started by the render pool (fork with an IPC channel)');

const rendererModules: string[] = JSON.parse(process.env.KILN_RENDERER_MODULES_JSON ?? '[]');
const post = (msg: FromRenderProcess) => {
  if (process.connected) process.send!(msg);
};

process.on('disconnect', () => process.exit(0));

const registry = await loadRegistry(rendererModules);
let controller: AbortController | null = null;
let nextId = 1;
const outputs = new Map<number, { inflight: number; waiting: (() => void) | null; failed: Error | null }>();
const checkpoints = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
const assetReads = new Map<number, { resolve: (a: InputAsset) => void; reject: (e: Error) => void; stream?: Readable }>();

/** Built-in renderers plus any extra modules the process was started with (tests add some). */
async function loadRegistry(modules: string[]) {
  const extra: Renderer[] = [];
  for (const m of modules) extra.push(...((await import(m)) as { renderers: Renderer[] }).renderers);
  return createRendererRegistry([...builtInRenderers(), ...extra]);
}

function openOutput(options: Parameters<RenderContext['output']>[0]): Writable {
  const streamId = nextId++;
  const state = { inflight: 0, waiting: null as (() => void) | null, failed: null as Error | null };
  outputs.set(streamId, state);
  post({ type: 'output-open', streamId, options });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (state.failed) return cb(state.failed);
      // A copy: the chunk may be a view into a larger pooled buffer.
      const data = new Uint8Array(chunk.byteLength);
      data.set(chunk);
      state.inflight += data.byteLength;
      post({ type: 'output-chunk', streamId, chunk: data });
      if (state.inflight < OUTPUT_WINDOW_BYTES) return cb();
      state.waiting = () => cb(state.failed ?? undefined);
    },
    final(cb) {
      post({ type: 'output-end', streamId });
      cb();
    },
    destroy(err, cb) {
      if (err) post({ type: 'output-abort', streamId, message: err.message });
      cb(err);
    },
  });
}

function readAsset(assetId: string): Promise<InputAsset> {
  const reqId = nextId++;
  return new Promise((resolve, reject) => {
    assetReads.set(reqId, { resolve, reject });
    post({ type: 'asset-read', reqId, assetId });
  });
}

/** Operating-system failures that may well not happen again (descriptor or memory pressure, I/O hiccups). */
const TRANSIENT_ERRNO = new Set(['EMFILE', 'ENFILE', 'ENOSPC', 'EAGAIN', 'ENOMEM', 'EIO', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * A renderer's own RenderError says whether a retry can help. Anything else thrown from a
 * renderer is a deterministic failure on this input (a library rejecting it, a bug) unless it is
 * one of the transient system errors above: retrying the same input three times would only
 * triple the cost of the failure.
 */
function serializeError(err: unknown, aborted: boolean): SerializedRenderError {
  if (err instanceof RenderError) {
    return {
      code: err.code, message: err.message, retryable: err.retryable, aborted, details: err.options.details,
      retryAfterMs: err.options.retryAfterMs, freeRetry: err.options.freeRetry,
    };
  }
  const e = err as Error & { code?: unknown };
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return { code: 'validation_failed', message: 'The input is nested too deeply to process.', retryable: false, aborted };
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  return {
    code: code === 'asset_too_large' ? code : 'render_failed',
    message: e?.message ?? String(err),
    retryable: TRANSIENT_ERRNO.has(code),
    aborted,
  };
}

function checkpoint(state: unknown): Promise<void> {
  const reqId = nextId++;
  return new Promise((resolve, reject) => {
    checkpoints.set(reqId, { resolve, reject });
    post({ type: 'checkpoint', reqId, state });
  });
}

async function render(kind: string, input: unknown, tmpDir: string, resume: unknown) {
  controller = new AbortController();
  const signal = controller.signal;
  const renderer = registry.get(kind);
  try {
    const ctx: RenderContext = {
      signal,
      tmpDir,
      progress: (fraction, stage) => post({ type: 'progress', fraction, stage }),
      log: (line) => post({ type: 'log', line }),
      warn: (message) => post({ type: 'warn', message }),
      output: openOutput,
      readAsset,
      checkpoint,
      resume,
    };
    // Uploads are checked here too, off the API's thread, reading the stored file over IPC.
    if (kind === INSPECT_UPLOAD_KIND) {
      const inspectUpload = await loadUploadInspector();
      post({ type: 'done', result: { metadata: { primary: await inspectUpload(input as InspectUploadInput, ctx) } } });
      return;
    }
    if (!renderer) throw new RenderError('unknown_kind', `No renderer for kind ${kind}.`);
    const result = await renderer.render(parseRenderInput(renderer, input), ctx);
    post({ type: 'done', result: result ?? null });
  } catch (err) {
    post({ type: 'failed', error: serializeError(err, signal.aborted) });
  } finally {
    controller = null;
    outputs.clear();
    assetReads.clear();
  }
}

/**
 * What the API needs to know before it queues a job: the input parses, passes the renderer's
 * preflight (the checks that parse or compile user content), and which assets it references.
 */
async function validate(reqId: number, kind: string, input: unknown) {
  try {
    const renderer = registry.get(kind);
    if (!renderer) throw new RenderError('unknown_kind', `No renderer for kind ${kind}.`);
    const parsed = parseRenderInput(renderer, input);
    // Loading the kind's libraries (once per process) is not the input's cost: the time budget
    // starts after it, when the check itself starts.
    await renderer.load?.();
    post({ type: 'checking', reqId });
    await renderer.preflight?.(parsed);
    const assetRefs = [...new Set((await renderer.assetRefs?.(parsed)) ?? [])];
    post({ type: 'validated', reqId, assetRefs });
  } catch (err) {
    post({ type: 'invalid', reqId, error: serializeError(err, false) });
  }
}

process.on('message', (msg: ToRenderProcess) => {
  switch (msg.type) {
    case 'render':
      void render(msg.kind, msg.input, msg.tmpDir, msg.resume);
      break;
    case 'validate':
      void validate(msg.reqId, msg.kind, msg.input);
      break;
    case 'checkpoint-done': {
      const c = checkpoints.get(msg.reqId);
      checkpoints.delete(msg.reqId);
      if (msg.error) c?.reject(new Error(msg.error));
      else c?.resolve();
      break;
    }
    case 'abort':
      controller?.abort(new RenderError('aborted', msg.reason));
      break;
    case 'shutdown':
      // Renderers that keep something between jobs (the document renderer's Chromium) close it
      // here; a killed process would leave the browser's profile behind.
      void Promise.allSettled([...registry.values()].map((r) => r.close?.())).then(() => post({ type: 'closed' }));
      break;
    case 'output-ack': {
      const s = outputs.get(msg.streamId);
      if (!s) break;
      s.inflight -= msg.bytes;
      if (s.waiting && s.inflight < OUTPUT_WINDOW_BYTES) {
        const w = s.waiting;
        s.waiting = null;
        w();
      }
      break;
    }
    case 'output-failed': {
      const s = outputs.get(msg.streamId);
      if (!s) break;
      s.failed = new Error(msg.message);
      const w = s.waiting;
      s.waiting = null;
      w?.();
      break;
    }
    case 'asset-meta': {
      const r = assetReads.get(msg.reqId);
      if (!r) break;
      const reqId = msg.reqId;
      const stream = new Readable({
        read() {
          post({ type: 'asset-pull', reqId });
        },
        destroy(err, cb) {
          post({ type: 'asset-cancel', reqId });
          cb(err);
        },
      });
      r.stream = stream;
      r.resolve({ id: msg.id, contentType: msg.contentType, byteSize: msg.byteSize, metadata: msg.metadata, stream });
      break;
    }
    case 'asset-chunk':
      assetReads.get(msg.reqId)?.stream?.push(Buffer.from(msg.chunk.buffer, msg.chunk.byteOffset, msg.chunk.byteLength));
      break;
    case 'asset-end': {
      const r = assetReads.get(msg.reqId);
      r?.stream?.push(null);
      assetReads.delete(msg.reqId);
      break;
    }
    case 'asset-error': {
      const r = assetReads.get(msg.reqId);
      if (!r) break;
      const err = new RenderError(msg.code, msg.message);
      if (r.stream) r.stream.destroy(err);
      else r.reject(err);
      assetReads.delete(msg.reqId);
      break;
    }
  }
});

post({ type: 'ready' });
