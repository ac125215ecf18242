import type { KilnClient } from '@kiln/client';
import type { JobView } from '@kiln/shared';
import { EXIT, type CliIo } from './cli-command.js';
import { createJobProgressView } from './job-progress-view.js';

/** Follows a job's events to its end, showing them on stdout; returns the final job. */
export async function followJob(client: KilnClient, companyId: string, jobId: string, io: CliIo, options: { json: boolean }): Promise<JobView> {
  const view = createJobProgressView(io.stdout, options);
  try {
    const job = await client.waitForJob(companyId, jobId, { onEvent: (item) => view.onItem(item), signal: io.signal });
    view.finish(job);
    return job;
  } finally {
    view.close();
  }
}

/** done 0, failed 1, canceled 3: the same for `watch` and `submit --wait`. */
export function exitCodeForJob(job: JobView): number {
  if (job.status === 'done') return EXIT.ok;
  if (job.status === 'canceled') return EXIT.canceled;
  return EXIT.failed;
}
