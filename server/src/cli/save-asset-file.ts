import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { KilnClient } from '@kiln/client';
import type { AssetView } from '@kiln/shared';

/**
 * Downloads an asset to `out` and checks the written file's sha256 against the asset's: what is
 * on disk is what the server stored, or the file is removed and the command fails.
 *
 * `out` is a file path, or a directory — one that exists, or any path ending in `/`, which is
 * created when missing — to save the asset in under its own filename.
 */
export async function saveAssetFile(client: KilnClient, companyId: string, asset: AssetView, out: string, signal?: AbortSignal): Promise<string> {
  const target = await resolveTarget(out, asset);
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

async function resolveTarget(out: string, asset: AssetView): Promise<string> {
  const namesDirectory = out.endsWith('/') || out.endsWith(path.sep);
  const isDir = namesDirectory || (await stat(out).then((s) => s.isDirectory(), () => false));
  if (!isDir) return out;
  await mkdir(out, { recursive: true });
  return path.join(out, safeFilename(asset));
}

/** The asset's filename as a single path segment: never `..`, never a path into another folder. */
function safeFilename(asset: AssetView): string {
  const name = path.basename(asset.filename.replaceAll('\\', '/'));
  return name && name !== '.' && name !== '..' ? name : asset.id;
}
