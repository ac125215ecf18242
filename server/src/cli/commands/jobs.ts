import { JOB_STATUSES, type JobStatus } from '@kiln/shared';
import { EXIT, UsageError, type CliCommand } from '../cli-command.js';
import { clientFromEnv, loadClientEnv, resolveCompany } from '../client-env.js';
import { intFlag, parseCommandArgs, subcommand } from '../parse-command-args.js';
import { printTable } from '../print-table.js';

export const jobsCommand: CliCommand = {
  name: 'jobs',
  summary: 'list content jobs',
  usage: `Usage: kiln jobs ls [--status S] [--kind K] [--task ID] [--limit N] [--company ID] [--json]

Lists jobs, newest first. A terminal gets a table; piped output is one job (JSON) per line.

Options:
  --status S     ${JOB_STATUSES.join(' | ')}
  --kind K       only jobs of this kind
  --task ID      only jobs with this sourceTaskId
  --limit N      at most N jobs (default 20; pages are fetched as needed)
  --company ID   company (default: KILN_COMPANY_ID, else the first company the API lists)
  --json         JSON lines even on a terminal`,
  async run(args, io) {
    const [, rest] = subcommand(jobsCommand, args, ['ls']);
    const { values } = parseCommandArgs(jobsCommand, rest, {
      status: { type: 'string' },
      kind: { type: 'string' },
      task: { type: 'string' },
      limit: { type: 'string' },
      company: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (values.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(values.status)) {
      throw new UsageError(`--status must be one of ${JOB_STATUSES.join(', ')}`, jobsCommand);
    }
    const limit = intFlag(jobsCommand, 'limit', values.limit, 1, 1_000_000) ?? 20;
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
  },
};
