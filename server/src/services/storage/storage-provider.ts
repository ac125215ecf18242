import type { Readable } from 'node:stream';

export interface ByteRange {
  /** Inclusive start and end, as in an HTTP Range header. */
  start: number;
  end: number;
}

export interface PresignOptions {
  expiresInSeconds: number;
  /** Sent back as the response's Content-Type. */
  contentType: string;
  /** Sent back as the response's Content-Disposition. */
  contentDisposition: string;
}

export interface PutResult {
  byteSize: number;
  sha256: string;
}

/**
 * Moves bytes; knows nothing of tenants. Keys are made by the storage service. A `put` either
 * leaves a complete object under `key` or nothing at all.
 */
export interface StorageProvider {
  readonly name: string;
  put(key: string, body: Readable, options: { contentType: string; maxBytes: number; signal?: AbortSignal }): Promise<PutResult>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  head(key: string): Promise<{ byteSize: number; modifiedAt: Date } | null>;
  delete(key: string): Promise<void>;
  /** Every finished object, for the orphan sweeper. */
  list(): AsyncIterable<{ key: string; modifiedAt: Date }>;
  /** Removes abandoned partial uploads older than `olderThanMs`. Returns how many. */
  sweepPartial(olderThanMs: number): Promise<number>;
  /**
   * A time-limited URL that downloads the object straight from the store, answering with the
   * given Content-Type and Content-Disposition. Only providers reachable by clients have it.
   */
  presignGet?(key: string, options: PresignOptions): Promise<string>;
}
