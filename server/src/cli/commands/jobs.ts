import { JOB_STATUSES, type JobStatus } from '@kiln/shared';
import { EXIT, UsageError, type CliCommand, type CliIo } from '../cli-command.js';
import { clientFromEnv, loadClientEnv, resolveCompany } from '../client-env.js';
import { intFlag, parseCommandArgs, subcommand } from '../parse-command-args.js';
import { printTable } from '../print-table.js';

export const jobsCommand: CliCommand = {
  name: 'jobs',
  summary: 'list or cancel content jobs',
  usage: `Usage:
  kiln jobs ls [--status S] [--kind K] [--task ID] [--limit N] [--company ID] [--json]
  kiln jobs cancel <jobId> [--company ID] [--json]

ls       Lists jobs, newest first. A terminal gets a table; piped output is one job (JSON) per line.
cancel   Cancels a queued job at once; a running one is flagged and stops shortly. Prints the
         job (JSON when piped). A job that has already ended cannot be canceled (exit 1).

Options:
  --status S     (ls) ${JOB_STATUSES.join(' | ')}
  --kind K       (ls) only jobs of this kind
  --task ID      (ls) only jobs with this sourceTaskId
  --limit N      (ls) at most N jobs (default 20; pages are fetched as needed)
  --company ID   company (default: KILN_COMPANY_ID, else the first company the API lists)
  --json         JSON even on a terminal`,
  async run(args, io) {
    const [sub, rest] = subcommand(jobsCommand, args, ['ls', 'cancel']);
    return sub === 'ls' ? listJobs(rest, io) : cancelJob(rest, io);
  },
};

async function listJobs(args: string[], io: CliIo): Promise<number> {
  const where = 'jobs ls';
  const { values } = parseCommandArgs(
    jobsCommand,
    args,
    {
      status: { type: 'string' },
      kind: { type: 'string' },
      task: { type: 'string' },
      limit: { type: 'string' },
      company: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    { where },
  );
  if (values.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(values.status)) {
    throw new UsageError(`--status must be one of ${JOB_STATUSES.join(', ')}`, jobsCommand, where);
  }
  const limit = intFlag(jobsCommand, 'limit', values.limit, 1, 1_000_000, where) ?? 20;
  const env = loadClientEnv(io.env);
  const client = clientFromEnv(env);
  const companyId = await resolveCompany(client, env, values.company);
  const jobs = client.listJobs(companyId, {
    status: values.status as JobStatus | undefined,
    kind: values.kind,
    sourceTaskId: values.task,
    pageSize: Math.min(limit, 200),
    signal: io.signal,
  });
  const json = values.json || !io.stdout.isTTY;
  const rows: string[][] = [];
  let count = 0;
  for await (const job of jobs) {
    if (json) io.stdout.write(`${JSON.stringify(job)}\n`);
    else rows.push([job.id, job.kind, job.status, `${Math.round(job.progress * 100)}%`, job.stage ?? '', job.createdAt, job.sourceTaskId ?? '']);
    if (++count >= limit) break;
  }
  if (!json) printTable(io.stdout, ['ID', 'KIND', 'STATUS', 'PROGRESS', 'STAGE', 'CREATED', 'TASK'], rows);
  return EXIT.ok;
}

async function cancelJob(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    jobsCommand,
    args,
    { company: { type: 'string' }, json: { type: 'boolean', default: false } },
    { positionals: ['<jobId>'], where: 'jobs cancel' },
  );
  const env = loadClientEnv(io.env);
  const client = clientFromEnv(env);
  const companyId = await resolveCompany(client, env, values.company);
  const job = await client.cancelJob(companyId, positionals[0]!, { signal: io.signal });
  if (values.json || !io.stdout.isTTY) io.stdout.write(`${JSON.stringify(job)}\n`);
  else if (job.status === 'canceled') io.stdout.write(`canceled job ${job.id}\n`);
  else io.stdout.write(`cancel requested: job ${job.id} is ${job.status} and stops shortly (kiln watch ${job.id} to see it end)\n`);
  return EXIT.ok;
}
