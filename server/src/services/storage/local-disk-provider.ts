import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange, PutResult, StorageProvider } from './storage-provider.js';
import { createByteMeter } from './byte-meter.js';

const PARTIAL_DIR = '.partial';

/**
 * Local disk: writes to `<root>/.partial/<uuid>`, hashing and counting as bytes pass, aborts the
 * moment the count passes `maxBytes`, then fsyncs and renames into place — a reader never sees a
 * half-written object, and a crash leaves only a partial file for the sweeper.
 */
export function createLocalDiskProvider(root: string): StorageProvider {
  const base = path.resolve(root);
  const partialDir = path.join(base, PARTIAL_DIR);

  function resolveKey(key: string): string {
    const full = path.resolve(base, key);
    if (!full.startsWith(base + path.sep) || key.includes('\0') || key.startsWith(PARTIAL_DIR)) {
      throw new Error(`invalid storage key: ${key}`);
    }
    return full;
  }

  return {
    name: 'local',

    async put(key, body, { maxBytes, signal }): Promise<PutResult> {
      const finalPath = resolveKey(key);
      await mkdir(partialDir, { recursive: true });
      const tmpPath = path.join(partialDir, randomUUID());
      const meter = createByteMeter(maxBytes);
      try {
        await pipeline(body, meter.stream, createWriteStream(tmpPath), signal ? { signal } : {});
        const fh = await open(tmpPath, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await mkdir(path.dirname(finalPath), { recursive: true });
        await rename(tmpPath, finalPath);
      } catch (err) {
        await rm(tmpPath, { force: true });
        throw err;
      }
      return meter.result();
    },

    async get(key, range?: ByteRange): Promise<Readable> {
      const full = resolveKey(key);
      // Open first so a missing file rejects here rather than erroring mid-response; the stream
      // owns the handle from then on and closes it.
      const fh = await open(full, 'r');
      return fh.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async head(key) {
      try {
        const s = await stat(resolveKey(key));
        return { byteSize: s.size, modifiedAt: s.mtime };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },

    async delete(key) {
      try {
        await unlink(resolveKey(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    },

    async *list() {
      for await (const file of walk(base)) {
        const rel = path.relative(base, file);
        if (rel.startsWith(PARTIAL_DIR)) continue;
        const s = await stat(file).catch(() => null);
        if (s) yield { key: rel.split(path.sep).join('/'), modifiedAt: s.mtime };
      }
    },

    async sweepPartial(olderThanMs) {
      let removed = 0;
      const entries = await readdir(partialDir).catch(() => [] as string[]);
      for (const name of entries) {
        const file = path.join(partialDir, name);
        const s = await stat(file).catch(() => null);
        if (s && Date.now() - s.mtimeMs > olderThanMs) {
          await rm(file, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile()) yield full;
  }
}
