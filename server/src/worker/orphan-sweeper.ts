import type { Queryable } from '../services/jobs/job-row.js';
import type { StorageService } from '../services/storage/storage-service.js';
import { existingObjectKeys } from '../services/assets/asset-store.js';

/**
 * Deletes what a crash can leave behind: partial uploads, and finished files that never got an
 * asset row (the process died between the rename and the commit). The grace period keeps files
 * of jobs that are finishing right now; only files older than it are candidates.
 */
export async function sweepOrphans(deps: { pool: Queryable; storage: StorageService; graceMs: number }) {
  const partials = await deps.storage.provider.sweepPartial(deps.graceMs);
  let orphans = 0;
  let batch: string[] = [];
  const flush = async () => {
    const known = await existingObjectKeys(deps.pool, batch);
    for (const key of batch) {
      if (!known.has(key)) {
        await deps.storage.provider.delete(key);
        orphans++;
      }
    }
    batch = [];
  };
  for await (const obj of deps.storage.provider.list()) {
    if (Date.now() - obj.modifiedAt.getTime() < deps.graceMs) continue;
    batch.push(obj.key);
    if (batch.length >= 500) await flush();
  }
  if (batch.length) await flush();
  return { partials, orphans };
}
