import { KilnApiError } from './kiln-api-error.js';

/**
 * The small part of a Node `Writable` the SDK uses, spelled out so this file needs no Node types
 * (it is bundled for browsers too).
 */
export interface NodeWritableLike {
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  once(event: 'drain' | 'finish' | 'error' | 'close', listener: (...args: any[]) => void): unknown;
  removeListener(event: 'drain' | 'finish' | 'error' | 'close', listener: (...args: any[]) => void): unknown;
}

/** A file path (Node only), a WHATWG WritableStream, or a Node Writable. Streams are ended when done. */
export type DownloadDestination = string | WritableStream<Uint8Array> | NodeWritableLike;

export interface DownloadResult {
  /** Bytes written to the destination. */
  byteSize: number;
  contentType: string | null;
}

/**
 * Streams a response body into `destination` chunk by chunk, never holding the whole file, and
 * checks the byte count against Content-Length so a cut-off transfer is an error, not a short file.
 */
export async function writeBody(res: Response, destination: DownloadDestination): Promise<DownloadResult> {
  if (!res.body) throw new KilnApiError(res.status, 'unexpected_response', 'The download response has no body.');
  const counted = countBytes(res.body);
  if (typeof destination === 'string') {
    // Kept behind a dynamic import so browser bundles never evaluate node:fs.
    const { writeStreamToFile } = await import('./node-file-sink.js');
    await writeStreamToFile(counted.stream, destination);
  } else if (isWritableStream(destination)) {
    await counted.stream.pipeTo(destination);
  } else {
    await writeToNodeWritable(counted.stream, destination);
  }
  const expected = res.headers.get('content-length');
  if (expected !== null && Number(expected) !== counted.bytes()) {
    throw new KilnApiError(res.status, 'download_incomplete', `Received ${counted.bytes()} of ${expected} bytes.`);
  }
  return { byteSize: counted.bytes(), contentType: res.headers.get('content-type') };
}

function isWritableStream(d: DownloadDestination): d is WritableStream<Uint8Array> {
  return typeof (d as WritableStream).getWriter === 'function';
}

function countBytes(body: ReadableStream<Uint8Array>) {
  let n = 0;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        n += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  return { stream, bytes: () => n };
}

/** Writes with back-pressure (waits for 'drain'), then ends the writable and waits for 'finish'. */
async function writeToNodeWritable(body: ReadableStream<Uint8Array>, w: NodeWritableLike): Promise<void> {
  const reader = body.getReader();
  let failed: unknown = null;
  const onError = (err: unknown) => (failed = err ?? new Error('destination stream failed'));
  w.once('error', onError);
  const waitFor = (event: 'drain' | 'finish') =>
    new Promise<void>((resolve, reject) => {
      const done = () => {
        w.removeListener('error', fail);
        resolve();
      };
      const fail = (err: unknown) => {
        w.removeListener(event, done);
        reject(err);
      };
      w.once(event, done);
      w.once('error', fail);
    });
  try {
    for (;;) {
      if (failed) throw failed;
      const { done, value } = await reader.read();
      if (done) break;
      if (!w.write(value)) await waitFor('drain');
    }
    if (failed) throw failed;
    const finished = waitFor('finish');
    w.end();
    await finished;
  } catch (err) {
    await reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    w.removeListener('error', onError);
  }
}
