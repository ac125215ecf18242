import { parentPort, workerData } from 'node:worker_threads';
import { Readable, Writable } from 'node:stream';
import { builtInRenderers, createRendererRegistry, RenderError, type InputAsset, type RenderContext, type Renderer } from '@kiln/renderers';
import { OUTPUT_WINDOW_BYTES, type FromThread, type SerializedRenderError, type ToThread } from './render-protocol.js';

/**
 * A render thread: runs one renderer at a time off the main event loop, so HTTP answers and
 * heartbeats stay prompt while satori, vega or sharp are busy. It talks to storage and the
 * database only through the main thread.
 */
const port = parentPort!;
const registry = await loadRegistry((workerData as { rendererModules?: string[] } | undefined)?.rendererModules ?? []);
const post = (msg: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(msg, transfer ?? []);

let controller: AbortController | null = null;
let nextId = 1;
const outputs = new Map<number, { inflight: number; waiting: (() => void) | null; failed: Error | null }>();
const assetReads = new Map<number, { resolve: (a: InputAsset) => void; reject: (e: Error) => void; stream?: Readable }>();

/** Built-in renderers plus any extra modules the process was started with (tests add some). */
async function loadRegistry(modules: string[]) {
  const extra = [];
  for (const m of modules) extra.push(...((await import(m)) as { renderers: Renderer[] }).renderers);
  return createRendererRegistry([...builtInRenderers(), ...extra]);
}

function toTransferable(chunk: Buffer | Uint8Array): { data: Uint8Array; transfer: ArrayBuffer[] } {
  // Copy: a Buffer may be a view into a shared pool, which must not be transferred away.
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return { data: copy, transfer: [copy.buffer] };
}

function openOutput(options: Parameters<RenderContext['output']>[0]): Writable {
  const streamId = nextId++;
  const state = { inflight: 0, waiting: null as (() => void) | null, failed: null as Error | null };
  outputs.set(streamId, state);
  post({ type: 'output-open', streamId, options });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (state.failed) return cb(state.failed);
      const { data, transfer } = toTransferable(chunk);
      state.inflight += data.byteLength;
      post({ type: 'output-chunk', streamId, chunk: data }, transfer);
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

function serializeError(err: unknown, aborted: boolean): SerializedRenderError {
  if (err instanceof RenderError) {
    return { code: err.code, message: err.message, retryable: err.retryable, aborted, details: err.options.details };
  }
  const e = err as Error & { code?: unknown };
  return {
    code: typeof e?.code === 'string' && e.code === 'asset_too_large' ? e.code : 'render_failed',
    message: e?.message ?? String(err),
    // An unexpected exception may be transient (a resource hiccup); the runner retries it
    // with backoff a bounded number of times.
    retryable: true,
    aborted,
  };
}

async function render(kind: string, input: unknown, tmpDir: string) {
  controller = new AbortController();
  const signal = controller.signal;
  const renderer = registry.get(kind);
  try {
    if (!renderer) throw new RenderError('unknown_kind', `No renderer for kind ${kind}.`);
    const parsed = renderer.inputSchema.parse(input);
    const ctx: RenderContext = {
      signal,
      tmpDir,
      progress: (fraction, stage) => post({ type: 'progress', fraction, stage }),
      log: (line) => post({ type: 'log', line }),
      warn: (line) => post({ type: 'log', line: `warning: ${line}` }),
      output: openOutput,
      readAsset,
    };
    const result = await renderer.render(parsed, ctx);
    post({ type: 'done', result: result ?? null });
  } catch (err) {
    post({ type: 'failed', error: serializeError(err, signal.aborted) });
  } finally {
    controller = null;
    outputs.clear();
    assetReads.clear();
  }
}

port.on('message', (msg: ToThread) => {
  switch (msg.type) {
    case 'render':
      void render(msg.kind, msg.input, msg.tmpDir);
      break;
    case 'abort':
      controller?.abort(new RenderError('aborted', msg.reason));
      break;
    case 'shutdown':
      // Renderers that keep something between jobs (the document renderer's Chromium) close it
      // here; a terminated thread would leave the browser's profile behind.
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
