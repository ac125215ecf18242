import { EXIT, type CliCommand } from '../cli-command.js';
import { clientFromEnv, loadClientEnv } from '../client-env.js';
import { parseCommandArgs, subcommand } from '../parse-command-args.js';
import { printTable } from '../print-table.js';

export const renderersCommand: CliCommand = {
  name: 'renderers',
  summary: 'list the kinds the server renders',
  usage: `Usage: kiln renderers ls [--json]

Lists the server's kinds. A terminal gets kind and description; piped output is one renderer
per line as JSON, with its input JSON Schema and an example input.`,
  async run(args, io) {
    const [, rest] = subcommand(renderersCommand, args, ['ls']);
    const { values } = parseCommandArgs(renderersCommand, rest, { json: { type: 'boolean', default: false } }, { where: 'renderers ls' });
    const renderers = await clientFromEnv(loadClientEnv(io.env)).listRenderers({ signal: io.signal });
    if (values.json || !io.stdout.isTTY) for (const r of renderers) io.stdout.write(`${JSON.stringify(r)}\n`);
    else printTable(io.stdout, ['KIND', 'DESCRIPTION'], renderers.map((r) => [r.kind, r.description]));
    return EXIT.ok;
  },
};
