import { stat } from 'node:fs/promises';
import type { AssetView } from '@kiln/shared';
import { EXIT, UsageError, type CliCommand, type CliIo } from '../cli-command.js';
import { clientFromEnv, loadClientEnv, resolveCompany } from '../client-env.js';
import { formatBytes } from '../job-progress-view.js';
import { intFlag, parseCommandArgs, subcommand } from '../parse-command-args.js';
import { printTable } from '../print-table.js';
import { saveAssetFile } from '../save-asset-file.js';

export const assetsCommand: CliCommand = {
  name: 'assets',
  summary: 'show, download, upload or list assets',
  usage: `Usage:
  kiln assets get <assetId> [--out PATH] [--company ID]
  kiln assets put <file> [--filename NAME] [--type TYPE] [--company ID] [--json]
  kiln assets ls [--task ID] [--job ID] [--limit N] [--company ID] [--json]

get   Without --out, prints the asset's metadata as JSON. With --out, streams its bytes to PATH
      and checks the file's sha256 against the asset's. PATH is a file, or a directory (an
      existing one, or DIR/ — created when missing) to save the asset in under its filename.
put   Uploads a file (streamed, never read into memory) as an asset of role "input", to pass
      to a job wherever its input takes an asset id. The server accepts images, audio, video,
      PDF, CSV/TSV, JSON, Markdown and plain text, and checks the bytes are what the type says.
      Prints the asset as JSON; a terminal gets one line: id, name, type, size.
ls    Lists assets, newest first. A terminal gets a table; piped output is one asset (JSON) per line.

Options:
  --out PATH         (get) where to save the bytes
  --filename NAME    (put) the asset's file name (default: the file's own name)
  --type TYPE        (put) its content type (default: from the name's extension, else
                     application/octet-stream)
  --task ID          (ls) only assets with this sourceTaskId
  --job ID           (ls) only assets this job made
  --limit N          (ls) at most N assets (default 20; pages are fetched as needed)
  --company ID       company (default: KILN_COMPANY_ID, else the first company the API lists)
  --json             JSON even on a terminal`,
  async run(args, io) {
    const [sub, rest] = subcommand(assetsCommand, args, ['get', 'put', 'ls']);
    if (sub === 'get') return getAsset(rest, io);
    if (sub === 'put') return putAsset(rest, io);
    return listAssets(rest, io);
  },
};

async function getAsset(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    assetsCommand,
    args,
    { out: { type: 'string' }, company: { type: 'string' } },
    { positionals: ['<assetId>'], where: 'assets get' },
  );
  const env = loadClientEnv(io.env);
  const client = clientFromEnv(env);
  const companyId = await resolveCompany(client, env, values.company);
  const asset = await client.getAsset(companyId, positionals[0]!, { signal: io.signal });
  if (values.out === undefined) {
    io.stdout.write(`${JSON.stringify(asset, null, io.stdout.isTTY ? 2 : undefined)}\n`);
    return EXIT.ok;
  }
  const written = await saveAssetFile(client, companyId, asset, values.out, io.signal);
  io.stderr.write(`kiln: wrote ${written} (${asset.byteSize} bytes, sha256 ${asset.sha256})\n`);
  return EXIT.ok;
}

async function putAsset(args: string[], io: CliIo): Promise<number> {
  const where = 'assets put';
  const { values, positionals } = parseCommandArgs(
    assetsCommand,
    args,
    { filename: { type: 'string' }, type: { type: 'string' }, company: { type: 'string' }, json: { type: 'boolean', default: false } },
    { positionals: ['<file>'], where },
  );
  const file = positionals[0]!;
  // Checked before anything is sent: a typo in the path is the caller's to fix (exit 2), not a failed upload.
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, assetsCommand, where);
  });
  if (!info.isFile()) throw new UsageError(`${file} is not a file`, assetsCommand, where);

  const env = loadClientEnv(io.env);
  const client = clientFromEnv(env);
  const companyId = await resolveCompany(client, env, values.company);
  // The SDK streams a path from disk; a file of any size costs no memory here.
  const asset = await client.upload(companyId, file, { filename: values.filename, contentType: values.type, signal: io.signal });
  if (values.json || !io.stdout.isTTY) io.stdout.write(`${JSON.stringify(asset)}\n`);
  else io.stdout.write(`${asset.id}  ${asset.filename}  ${asset.contentType}  ${formatBytes(asset.byteSize)}\n`);
  return EXIT.ok;
}

async function listAssets(args: string[], io: CliIo): Promise<number> {
  const where = 'assets ls';
  const { values } = parseCommandArgs(
    assetsCommand,
    args,
    { task: { type: 'string' }, job: { type: 'string' }, limit: { type: 'string' }, company: { type: 'string' }, json: { type: 'boolean', default: false } },
    { where },
  );
  const limit = intFlag(assetsCommand, 'limit', values.limit, 1, 1_000_000, where) ?? 20;
  const env = loadClientEnv(io.env);
  const client = clientFromEnv(env);
  const companyId = await resolveCompany(client, env, values.company);
  const assets = client.listAssets(companyId, { sourceTaskId: values.task, jobId: values.job, pageSize: Math.min(limit, 200), signal: io.signal });
  const json = values.json || !io.stdout.isTTY;
  const rows: string[][] = [];
  let count = 0;
  for await (const asset of assets) {
    if (json) io.stdout.write(`${JSON.stringify(asset)}\n`);
    else rows.push(assetRow(asset));
    if (++count >= limit) break;
  }
  if (!json) printTable(io.stdout, ['ID', 'ROLE', 'TYPE', 'SIZE', 'CREATED', 'JOB', 'FILENAME'], rows);
  return EXIT.ok;
}

const assetRow = (a: AssetView) => [a.id, a.role, a.contentType, formatBytes(a.byteSize), a.createdAt, a.jobId ?? '(upload)', a.filename];
