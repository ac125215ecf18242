import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { createLocalDiskProvider } from '../src/services/storage/local-disk-provider.js';
import { createStorageService, safeFilename } from '../src/services/storage/storage-service.js';
import { sweepOrphans } from '../src/worker/orphan-sweeper.js';
import { createDatabase } from '@kiln/db';
import { insertAsset } from '../src/services/assets/asset-store.js';
import { companyService } from '../src/services/companies/company-service.js';
import { createTestDatabaseUrl } from './support/test-kiln.js';

const COMPANY = '11111111-1111-4111-8111-111111111111';

function* chunks(total: number, size = 64 * 1024) {
  for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 3);
}

describe('local disk storage', () => {
  it('streams, hashes and counts; keys are namespaced by company and date', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kiln-storage-'));
    const storage = createStorageService(createLocalDiskProvider(root));
    const stored = await storage.write(COMPANY, 'generated', '../../etc/passwd', Readable.from(chunks(300_000)), {
      contentType: 'application/octet-stream',
      maxBytes: 1_000_000,
    });
    expect(stored.key).toMatch(new RegExp(`^${COMPANY}/generated/\\d{4}/\\d{2}/\\d{2}/[0-9a-f-]{36}-passwd$`));
    expect(stored.byteSize).toBe(300_000);
    const bytes = await readFile(path.join(root, stored.key));
    expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    // Another company's prefix is refused before the disk is touched.
    expect(() => storage.read('22222222-2222-4222-8222-222222222222', stored.key)).toThrow();
  });

  it('aborts past maxBytes and leaves nothing behind, not even a partial file', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kiln-storage-'));
    const provider = createLocalDiskProvider(root);
    await expect(
      provider.put(`${COMPANY}/generated/x.bin`, Readable.from(chunks(2_000_000)), { contentType: 'x', maxBytes: 1_000_000 }),
    ).rejects.toMatchObject({ code: 'asset_too_large' });
    expect(await readdir(path.join(root, '.partial'))).toEqual([]);
    expect(await provider.head(`${COMPANY}/generated/x.bin`)).toBeNull();
  });

  it('refuses keys that escape the root', async () => {
    const provider = createLocalDiskProvider(await mkdtemp(path.join(tmpdir(), 'kiln-storage-')));
    await expect(provider.put('../outside', Readable.from([Buffer.from('x')]), { contentType: 'x', maxBytes: 10 })).rejects.toThrow(/invalid storage key/);
  });

  it('makes safe, readable file names', () => {
    expect(safeFilename('My Chart (final).png')).toBe('My_Chart_final_.png');
    expect(safeFilename('..')).toBe('file');
  });

  it('the sweeper deletes old partial files and old files without an asset row, and keeps the rest', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kiln-storage-'));
    const storage = createStorageService(createLocalDiskProvider(root));
    const put = (name: string) =>
      storage.write(COMPANY, 'generated', name, Readable.from([Buffer.from(name)]), { contentType: 'text/plain', maxBytes: 100 });
    const known = await put('known.txt');
    const orphan = await put('orphan.txt');
    const fresh = await put('fresh.txt');
    await mkdir(path.join(root, '.partial'), { recursive: true });
    await writeFile(path.join(root, '.partial', 'abandoned'), 'x');
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const f of [known.key, orphan.key, '.partial/abandoned']) await utimes(path.join(root, f), old, old);

    // Real rows for `known` and `fresh` in a real database; `orphan` has none.
    const database = createDatabase(await createTestDatabaseUrl(), { maxConnections: 2 });
    const company = await companyService(database.pool).create({ name: 'Sweep' });
    for (const obj of [known, fresh]) {
      await insertAsset(database.pool, {
        companyId: company.id, provider: 'local', namespace: 'generated', objectKey: obj.key, contentType: 'text/plain',
        byteSize: obj.byteSize, sha256: obj.sha256, originalFilename: 'x.txt', sourceTaskId: null, sourceJobId: null,
        role: 'primary', metadata: {},
      });
    }
    const result = await sweepOrphans({ pool: database.pool, storage, graceMs: 3600_000 });
    await database.close();
    expect(result).toEqual({ partials: 1, orphans: 1 });
    expect(await storage.provider.head(known.key)).not.toBeNull();
    expect(await storage.provider.head(fresh.key)).not.toBeNull();
    expect(await storage.provider.head(orphan.key)).toBeNull();
  });
});
