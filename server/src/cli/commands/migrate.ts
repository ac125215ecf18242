import { loadConfig } from '../../config.js';
import type { CliCommand } from '../cli-command.js';
import { parseCommandArgs } from '../parse-command-args.js';
import { withDatabase } from '../with-database.js';

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'apply database migrations and exit',
  usage: `Usage: kiln migrate

Applies pending migrations to DATABASE_URL (or the embedded PostgreSQL under KILN_DATA_DIR).`,
  async run(args, io) {
    parseCommandArgs(migrateCommand, args, {});
    // Opening the database migrates it.
    return withDatabase(loadConfig(io.env), async () => {
      io.stdout.write('migrations applied\n');
    });
  },
};
