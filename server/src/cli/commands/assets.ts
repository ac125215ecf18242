import { EXIT, type CliCommand } from '../cli-command.js';
import { clientFromEnv, loadClientEnv, resolveCompany } from '../client-env.js';
import { parseCommandArgs, subcommand } from '../parse-command-args.js';
import { saveAssetFile } from '../save-asset-file.js';

export const assetsCommand: CliCommand = {
  name: 'assets',
  summary: 'show or download an asset',
  usage: `Usage: kiln assets get <assetId> [--out PATH] [--company ID]

Without --out, prints the asset's metadata as JSON. With --out, streams its bytes to PATH (a
file, or an existing directory to save it under its filename) and checks the file's sha256
against the asset's.

Options:
  --out PATH     where to save the bytes
  --company ID   company (default: KILN_COMPANY_ID, else the first company the API lists)`,
  async run(args, io) {
    const [, rest] = subcommand(assetsCommand, args, ['get']);
    const { values, positionals } = parseCommandArgs(assetsCommand, rest, { out: { type: 'string' }, company: { type: 'string' } }, { min: 1, max: 1 });
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
  },
};
