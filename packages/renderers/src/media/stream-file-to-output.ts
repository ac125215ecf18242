import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { OutputOptions, RenderContext } from '../contract.js';

/**
 * Streams a finished scratch file into storage. ffmpeg writes MP4 (faststart moves the index to
 * the front after encoding), M4A and WebM (cues and duration are patched in at the end) by seeking
 * back, so it needs a real file; the copy to storage is still a stream, bounded in memory.
 */
export async function streamFileToOutput(ctx: RenderContext, file: string, options: OutputOptions): Promise<void> {
  await pipeline(createReadStream(file), ctx.output(options), { signal: ctx.signal });
}

/** Copies an input asset's stream into a scratch file for a tool that needs a path. */
export async function saveStreamToFile(stream: Readable, file: string, signal: AbortSignal): Promise<void> {
  await pipeline(stream, createWriteStream(file), { signal });
}
