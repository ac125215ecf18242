import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { KilnClient } from '@kiln/client';
import type { AssetView } from '@kiln/shared';

/**
 * Downloads an asset to `out` (a file, or an existing directory to put `asset.filename` in) and
 * checks the written file's sha256 against the asset's: what is on disk is what the server stored,
 * or the file is removed and the command fails.
 */
export async function saveAssetFile(client: KilnClient, companyId: string, asset: AssetView, out: string, signal?: AbortSignal): Promise<string> {
  const isDir = await stat(out).then((s) => s.isDirectory(), () => false);
  const target = isDir ? path.join(out, path.basename(asset.filename) || asset.id) : out;
  await client.downloadAsset(companyId, asset.id, target, { signal });
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(target)) hash.update(chunk as Buffer);
  const actual = hash.digest('hex');
  if (actual !== asset.sha256) {
    await rm(target, { force: true });
    throw new Error(`downloaded file's sha256 ${actual} does not match the asset's ${asset.sha256}; removed ${target}`);
  }
  return target;
}
