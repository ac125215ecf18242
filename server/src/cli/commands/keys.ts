import { loadConfig } from '../../config.js';
import { EXIT, UsageError, type CliCommand } from '../cli-command.js';
import { parseCommandArgs, subcommand } from '../parse-command-args.js';
import { withDatabase } from '../with-database.js';

export const keysCommand: CliCommand = {
  name: 'keys',
  summary: 'create, revoke or list API keys (database)',
  usage: `Usage:
  kiln keys create (--admin | --company ID) [--name NAME]
  kiln keys revoke <keyId>
  kiln keys ls

Works on the database directly (DATABASE_URL, or the embedded PostgreSQL under KILN_DATA_DIR).
create prints the key on stdout; it is shown only once.`,
  async run(args, io) {
    const [sub, rest] = subcommand(keysCommand, args, ['create', 'revoke', 'ls']);
    const { values, positionals } = parseCommandArgs(
      keysCommand,
      rest,
      { admin: { type: 'boolean', default: false }, company: { type: 'string' }, name: { type: 'string' } },
      { positionals: sub === 'revoke' ? ['<keyId>'] : [], where: `keys ${sub}` },
    );
    if (sub === 'create' && values.admin === !!values.company) throw new UsageError('needs exactly one of --admin or --company ID', keysCommand, 'keys create');
    const [{ apiKeyService }, { companyService }] = await Promise.all([
      import('../../services/auth/api-key-service.js'),
      import('../../services/companies/company-service.js'),
    ]);
    return withDatabase(loadConfig(io.env), async (db) => {
      const keys = apiKeyService(db.pool);
      if (sub === 'create') {
        if (values.company) await companyService(db.pool).require(values.company);
        const { id, key } = await keys.create({ companyId: values.company ?? null, name: values.name ?? (values.admin ? 'admin' : 'company key') });
        io.stderr.write(`kiln: created key ${id}; it is shown only once:\n`);
        io.stdout.write(`${key}\n`);
      } else if (sub === 'revoke') {
        if (!(await keys.revoke(positionals[0]!))) {
          io.stderr.write(`kiln: no active key ${positionals[0]}\n`);
          return EXIT.failed;
        }
      } else {
        for (const k of await keys.list()) io.stdout.write(`${k.id}\t${k.companyId ?? 'admin'}\t${k.name}\t${k.revokedAt ? 'revoked' : 'active'}\n`);
      }
    });
  },
};
