import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { EXIT, UsageError, type CliCommand } from '../cli-command.js';
import { clientFromEnv, loadClientEnv, resolveCompany } from '../client-env.js';
import { exitCodeForJob, followJob } from '../follow-job.js';
import { intFlag, parseCommandArgs } from '../parse-command-args.js';
import { saveAssetFile } from '../save-asset-file.js';

export const submitCommand: CliCommand = {
  name: 'submit',
  summary: 'queue a content job (and optionally wait for it and save its output)',
  usage: `Usage: kiln submit <kind> --input FILE|- [options]

Queues a job of <kind> whose renderer input is the JSON in FILE (or stdin with -).
Without --wait it prints the job id and exits 0.

Options:
  --input FILE|-          renderer input as JSON (required)
  --company ID            company (default: KILN_COMPANY_ID, else the first company the API lists)
  --task ID               sourceTaskId to link the job to a task
  --output-name NAME      the output's file name (its extension is the output's own)
  --priority N            higher runs first: -100..100, default 0 (negative: --priority=-5)
  --idempotency-key KEY   repeat-safe submit: the same key and body return the same job
  --wait                  follow the job until it ends; exit 0 done, 1 failed, 3 canceled
  --out PATH              save the primary asset to PATH: a file, or a directory (DIR/ is
                          created when missing) to save it under its filename; implies --wait
  --json                  JSON lines even on a terminal

While waiting, a terminal shows a live progress bar, then the output's URL, and the job's
warnings on stderr; piped output is one JSON object per event, then {"type":"result","job":…}
with the finished job (outputs, URLs, warnings). Ctrl-C stops waiting; the job keeps running
(cancel it with kiln jobs cancel <jobId>); exit 130.
Server: KILN_URL (default http://127.0.0.1:3100), KILN_API_KEY.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      submitCommand,
      args,
      {
        input: { type: 'string' },
        company: { type: 'string' },
        task: { type: 'string' },
        'output-name': { type: 'string' },
        priority: { type: 'string' },
        'idempotency-key': { type: 'string' },
        wait: { type: 'boolean', default: false },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      { positionals: ['<kind>'] },
    );
    if (values.input === undefined) throw new UsageError('missing --input FILE (or - for stdin)', submitCommand);
    const priority = intFlag(submitCommand, 'priority', values.priority, -100, 100);
    const input = await readJsonInput(values.input, io.stdin);

    const env = loadClientEnv(io.env);
    const client = clientFromEnv(env);
    const companyId = await resolveCompany(client, env, values.company);
    const created = await client.createJob(
      companyId,
      { kind: positionals[0]!, input, sourceTaskId: values.task, priority, outputName: values['output-name'] },
      { idempotencyKey: values['idempotency-key'], signal: io.signal },
    );
    if (!values.wait && values.out === undefined) {
      io.stdout.write(`${created.jobId}\n`);
      return EXIT.ok;
    }
    const job = await followJob(client, companyId, created.jobId, io, { json: values.json, companyFlag: values.company });
    if (job.status === 'done' && values.out !== undefined) {
      const primary = job.assets.find((a) => a.role === 'primary');
      if (!primary) {
        io.stderr.write(`kiln: job ${job.id} finished without a primary asset\n`);
        return EXIT.failed;
      }
      const written = await saveAssetFile(client, companyId, primary, values.out, io.signal);
      io.stderr.write(`kiln: wrote ${written} (${primary.byteSize} bytes, sha256 ${primary.sha256})\n`);
    }
    return exitCodeForJob(job);
  },
};

/** The renderer input: a JSON file, or stdin for `-`. Unreadable or invalid input is a usage error. */
async function readJsonInput(source: string, stdin: Readable): Promise<unknown> {
  let text: string;
  try {
    if (source === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      text = await readFile(source, 'utf8');
    }
  } catch (err) {
    throw new UsageError(`cannot read --input ${source}: ${(err as Error).message}`, submitCommand);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--input ${source === '-' ? '(stdin)' : source} is not valid JSON: ${(err as Error).message}`, submitCommand);
  }
}
