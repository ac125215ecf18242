import type { CliCommand } from '../cli-command.js';
import { clientFromEnv, loadClientEnv, resolveCompany } from '../client-env.js';
import { exitCodeForJob, followJob } from '../follow-job.js';
import { parseCommandArgs } from '../parse-command-args.js';

export const watchCommand: CliCommand = {
  name: 'watch',
  summary: 'follow a job until it ends',
  usage: `Usage: kiln watch <jobId> [--company ID] [--json]

Follows the job's events until it ends (resuming after dropped connections), then exits
0 done, 1 failed, 3 canceled. A terminal shows a live progress bar (stage, elapsed time), then
the output's URL, and the job's warnings on stderr. Piped output is one JSON object per line:
first {"type":"snapshot","job":{…}}, then each event {"id","companyId","jobId","type","payload",
"createdAt"}, then {"type":"result","job":{…}}: the finished job (outputs, URLs, warnings).
Ctrl-C stops watching, not the job; exit 130.

Options:
  --company ID   company (default: KILN_COMPANY_ID, else the first company the API lists)
  --json         JSON lines even on a terminal`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      watchCommand,
      args,
      { company: { type: 'string' }, json: { type: 'boolean', default: false } },
      { positionals: ['<jobId>'] },
    );
    const env = loadClientEnv(io.env);
    const client = clientFromEnv(env);
    const companyId = await resolveCompany(client, env, values.company);
    return exitCodeForJob(await followJob(client, companyId, positionals[0]!, io, { json: values.json, companyFlag: values.company }));
  },
};
