import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { AssetMetadata, OutputRole as AssetRole } from '@kiln/shared';
import { RenderError, type InputAsset, type OutputOptions, type RenderContext } from '../contract.js';

export interface WrittenOutput extends OutputOptions {
  path: string;
}

export interface FileAsset {
  id: string;
  path: string;
  contentType: string;
  metadata?: AssetMetadata;
}

/**
 * A RenderContext that writes outputs to plain files: what renderer tests and the "direct call"
 * side of benchmarks use to run a renderer without the server. Not used by the service itself.
 */
export async function createFileRenderContext(options: {
  dir?: string;
  assets?: FileAsset[];
  signal?: AbortSignal;
  /** What ctx.resume holds (a checkpoint of an earlier attempt). */
  resume?: unknown;
} = {}) {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'kiln-render-')));
  const tmpDir = path.join(dir, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const outputs: WrittenOutput[] = [];
  const streams: Writable[] = [];
  const progress: { fraction: number; stage: string }[] = [];
  const logs: string[] = [];
  const warnings: string[] = [];
  const checkpoints: unknown[] = [];
  const assets = new Map((options.assets ?? []).map((a) => [a.id, a]));
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;

  const ctx: RenderContext = {
    signal,
    tmpDir,
    progress(fraction, stage) {
      progress.push({ fraction, stage });
    },
    log(line) {
      logs.push(line);
    },
    warn(message) {
      warnings.push(message);
    },
    async checkpoint(state) {
      checkpoints.push(JSON.parse(JSON.stringify(state)));
    },
    resume: options.resume,
    output(opts) {
      const file = path.join(dir, `${opts.role}-${outputs.length}-${opts.filename}`);
      outputs.push({ ...opts, path: file });
      const stream = createWriteStream(file);
      streams.push(stream);
      return stream;
    },
    async readAsset(id): Promise<InputAsset> {
      const asset = assets.get(id);
      if (!asset) throw new RenderError('asset_not_found', `Asset ${id} not found.`);
      const { size } = await stat(asset.path);
      return {
        id,
        contentType: asset.contentType,
        byteSize: size,
        metadata: asset.metadata ?? {},
        stream: createReadStream(asset.path),
      };
    },
  };

  return {
    ctx,
    dir,
    outputs,
    progress,
    logs,
    warnings,
    checkpoints,
    abort: (reason?: unknown) => controller.abort(reason),
    /** Waits until every output file is flushed. */
    async settled() {
      await Promise.all(streams.map((s) => (s.writableFinished ? undefined : finished(s).catch(() => undefined))));
    },
    outputFor(role: AssetRole) {
      return outputs.find((o) => o.role === role);
    },
  };
}
