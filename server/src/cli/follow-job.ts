import type { KilnClient } from '@kiln/client';
import { isTerminalStatus, type JobStatus, type JobView } from '@kiln/shared';
import { EXIT, InterruptedError, type CliIo } from './cli-command.js';
import { createJobProgressView } from './job-progress-view.js';

export interface FollowOptions {
  json: boolean;
  /** The --company the command was given, repeated in the commands suggested after Ctrl-C. */
  companyFlag?: string;
}

/**
 * Follows a job's events to its end, showing them on stdout; returns the final job. On a
 * terminal the end shows the output's URL, and the job's warnings go to stderr; piped, the last
 * JSON line is `{"type":"result","job":…}` with both. Ctrl-C stops following, not the job: the
 * InterruptedError says so and how to cancel it.
 */
export async function followJob(client: KilnClient, companyId: string, jobId: string, io: CliIo, options: FollowOptions): Promise<JobView> {
  const json = options.json || !io.stdout.isTTY;
  const view = createJobProgressView(io.stdout, { json, baseUrl: client.baseUrl });
  let status: JobStatus = 'queued';
  try {
    const job = await client.waitForJob(companyId, jobId, {
      signal: io.signal,
      onEvent: (item) => {
        status = item.type === 'snapshot' ? item.job.status : item.payload.status ?? status;
        view.onItem(item);
      },
    });
    view.finish(job);
    if (!json) for (const warning of job.warnings) io.stderr.write(`kiln: warning: ${warning}\n`);
    return job;
  } catch (err) {
    if (io.signal.aborted && !isTerminalStatus(status)) throw new InterruptedError(stillRunningHint(jobId, status, options.companyFlag));
    throw err;
  } finally {
    view.close();
  }
}

function stillRunningHint(jobId: string, status: JobStatus, companyFlag: string | undefined): string {
  const company = companyFlag ? ` --company ${companyFlag}` : '';
  return [
    `job ${jobId} is still ${status} on the server (Ctrl-C stops following it, not the job).`,
    `  cancel it:   kiln jobs cancel ${jobId}${company}`,
    `  follow it:   kiln watch ${jobId}${company}`,
  ].join('\n');
}

/** done 0, failed 1, canceled 3: the same for `watch` and `submit --wait`. */
export function exitCodeForJob(job: JobView): number {
  if (job.status === 'done') return EXIT.ok;
  if (job.status === 'canceled') return EXIT.canceled;
  return EXIT.failed;
}
