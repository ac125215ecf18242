import { loadConfig } from '../../config.js';
import type { CliCommand } from '../cli-command.js';
import { parseCommandArgs } from '../parse-command-args.js';
import { untilSignal } from '../until-signal.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'start the API (and, by default, an in-process worker)',
  usage: `Usage: kiln serve [--no-worker]

Starts the HTTP API on KILN_HOST:KILN_PORT (default 127.0.0.1:3100) and, unless --no-worker,
a worker in the same process. Without DATABASE_URL it runs an embedded PostgreSQL under
KILN_DATA_DIR. Stops cleanly on SIGINT/SIGTERM.`,
  async run(args, io) {
    const { values } = parseCommandArgs(serveCommand, args, { 'no-worker': { type: 'boolean', default: false } });
    const config = loadConfig(io.env);
    // Loaded here, not at the top: client commands must not pay for Fastify, pg and the renderers.
    const { startKiln } = await import('../../runtime.js');
    const runtime = await startKiln(config, { api: true, worker: !values['no-worker'] });
    console.log(`kiln: listening on ${runtime.url} (${config.deploymentMode}${runtime.worker ? `, worker ${runtime.worker.id}` : ', no worker'})`);
    if (runtime.defaultCompanyId) console.log(`kiln: default company ${runtime.defaultCompanyId}`);
    return untilSignal(() => runtime.stop());
  },
};
