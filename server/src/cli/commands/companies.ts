import { loadConfig } from '../../config.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { intFlag, parseCommandArgs, subcommand } from '../parse-command-args.js';
import { withDatabase } from '../with-database.js';

/**
 * Talks to the database directly, like `keys`: both bootstrap an installation (the first company
 * and its key) before any API key exists, and work whether or not a server is running.
 */
export const companiesCommand: CliCommand = {
  name: 'companies',
  summary: 'list or create companies (database)',
  usage: `Usage:
  kiln companies ls
  kiln companies create <name> [--max-concurrent N]

Works on the database directly (DATABASE_URL, or the embedded PostgreSQL under KILN_DATA_DIR),
not through the API, so it can set up an installation before any API key exists.
ls prints: id<TAB>name<TAB>max_concurrent=N`,
  async run(args, io) {
    const [sub, rest] = subcommand(companiesCommand, args, ['ls', 'create']);
    const where = `companies ${sub}`;
    const { values, positionals } = parseCommandArgs(
      companiesCommand,
      rest,
      { 'max-concurrent': { type: 'string' } },
      { positionals: sub === 'create' ? ['<name...>'] : [], where },
    );
    const name = positionals.join(' ').trim();
    if (sub === 'create' && !name) throw new UsageError('missing <name>', companiesCommand, where);
    const maxConcurrentJobs = intFlag(companiesCommand, 'max-concurrent', values['max-concurrent'], 1, 1000, where);
    const { companyService } = await import('../../services/companies/company-service.js');
    return withDatabase(loadConfig(io.env), async (db) => {
      const companies = companyService(db.pool);
      if (sub === 'ls') {
        for (const c of await companies.list()) io.stdout.write(`${c.id}\t${c.name}\tmax_concurrent=${c.maxConcurrentJobs}\n`);
      } else {
        const c = await companies.create({ name, maxConcurrentJobs });
        io.stdout.write(`${c.id}\n`);
      }
    });
  },
};
