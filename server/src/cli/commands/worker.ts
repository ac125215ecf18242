import { loadConfig } from '../../config.js';
import type { CliCommand } from '../cli-command.js';
import { parseCommandArgs } from '../parse-command-args.js';
import { untilSignal } from '../until-signal.js';

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'run a worker process only',
  usage: `Usage: kiln worker

Claims and renders jobs from the database (DATABASE_URL, or the embedded PostgreSQL under
KILN_DATA_DIR) with KILN_WORKER_CONCURRENCY jobs at a time. Hands its jobs back on SIGINT/SIGTERM.`,
  async run(args, io) {
    parseCommandArgs(workerCommand, args, {});
    const config = loadConfig(io.env);
    const { startKiln } = await import('../../runtime.js');
    const runtime = await startKiln(config, { api: false, worker: true });
    console.log(`kiln: worker ${runtime.worker!.id} running (concurrency ${config.workerConcurrency})`);
    return untilSignal(() => runtime.stop());
  },
};
