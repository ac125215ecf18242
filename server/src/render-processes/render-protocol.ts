import type { AssetMetadata } from '@kiln/shared';
import type { OutputOptions, RenderResult } from '@kiln/renderers';

/**
 * Messages between a parent (the job runner, or the API's validation pool) and a render process,
 * over the IPC channel with `serialization: 'advanced'`, so bytes cross as Uint8Arrays. Outputs
 * are flow-controlled by acknowledgements so a fast renderer cannot pile its whole file up in the
 * parent's memory.
 */
export type ToRenderProcess =
  | { type: 'render'; kind: string; input: unknown; tmpDir: string; resume?: unknown }
  | { type: 'checkpoint-done'; reqId: number; error?: string }
  | { type: 'validate'; reqId: number; kind: string; input: unknown }
  | { type: 'abort'; reason: string }
  | { type: 'shutdown' }
  | { type: 'output-ack'; streamId: number; bytes: number }
  | { type: 'output-failed'; streamId: number; message: string }
  | { type: 'asset-meta'; reqId: number; id: string; contentType: string; byteSize: number; metadata: AssetMetadata }
  | { type: 'asset-chunk'; reqId: number; chunk: Uint8Array }
  | { type: 'asset-end'; reqId: number }
  | { type: 'asset-error'; reqId: number; code: string; message: string };

export type FromRenderProcess =
  | { type: 'ready' }
  | { type: 'closed' }
  | { type: 'progress'; fraction: number; stage: string }
  | { type: 'log'; line: string }
  | { type: 'warn'; message: string }
  | { type: 'checkpoint'; reqId: number; state: unknown }
  | { type: 'output-open'; streamId: number; options: OutputOptions }
  | { type: 'output-chunk'; streamId: number; chunk: Uint8Array }
  | { type: 'output-end'; streamId: number }
  | { type: 'output-abort'; streamId: number; message: string }
  | { type: 'asset-read'; reqId: number; assetId: string }
  | { type: 'asset-pull'; reqId: number }
  | { type: 'asset-cancel'; reqId: number }
  | { type: 'done'; result: RenderResult | null }
  | { type: 'failed'; error: SerializedRenderError }
  | { type: 'checking'; reqId: number }
  | { type: 'validated'; reqId: number; assetRefs: string[] }
  | { type: 'invalid'; reqId: number; error: SerializedRenderError };

export interface SerializedRenderError {
  code: string;
  message: string;
  retryable: boolean;
  aborted: boolean;
  details?: unknown;
  retryAfterMs?: number;
  freeRetry?: boolean;
}

/** Bytes a render process may have sent for one output before it waits for acknowledgement. */
export const OUTPUT_WINDOW_BYTES = 1024 * 1024;
