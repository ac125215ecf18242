import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ByteRange, PresignOptions, PutResult, StorageProvider } from './storage-provider.js';
import { KilnError } from '../../errors.js';

export const GENERATED_NAMESPACE = 'generated';

export interface StoredObject extends PutResult {
  key: string;
  provider: string;
  namespace: string;
}

/**
 * Adds tenancy to a provider: keys are made here, never taken from a client, as
 * `<companyId>/<namespace>/yyyy/mm/dd/<uuid>-<name>`, and every read checks the company prefix.
 */
export function createStorageService(provider: StorageProvider) {
  function makeKey(companyId: string, namespace: string, filename: string, now = new Date()): string {
    const yyyy = now.getUTCFullYear();
    const mm = String(now.getUTCMonth() + 1).padStart(2, '0');
    const dd = String(now.getUTCDate()).padStart(2, '0');
    return `${companyId}/${namespace}/${yyyy}/${mm}/${dd}/${randomUUID()}-${safeFilename(filename)}`;
  }

  function assertOwned(companyId: string, key: string) {
    if (!key.startsWith(`${companyId}/`)) throw KilnError.of('asset_not_found');
  }

  return {
    provider,
    makeKey,
    async write(
      companyId: string,
      namespace: string,
      filename: string,
      body: Readable,
      options: { contentType: string; maxBytes: number; signal?: AbortSignal },
    ): Promise<StoredObject> {
      const key = makeKey(companyId, namespace, filename);
      const result = await provider.put(key, body, options);
      return { ...result, key, provider: provider.name, namespace };
    },
    read(companyId: string, key: string, range?: ByteRange): Promise<Readable> {
      assertOwned(companyId, key);
      return provider.get(key, range);
    },
    /** A URL that downloads the object from the store directly, or null when the provider has none. */
    async presignRead(companyId: string, key: string, options: PresignOptions): Promise<string | null> {
      assertOwned(companyId, key);
      return provider.presignGet ? provider.presignGet(key, options) : null;
    },
    async remove(companyId: string, key: string): Promise<void> {
      assertOwned(companyId, key);
      await provider.delete(key);
    },
  };
}

export type StorageService = ReturnType<typeof createStorageService>;

/** Keeps names readable in keys and downloads while refusing path tricks. */
export function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? 'file';
  const cleaned = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '').slice(0, 100);
  return cleaned || 'file';
}
