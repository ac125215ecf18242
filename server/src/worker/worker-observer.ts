import type { JobStatus } from '@kiln/shared';
import type { JobRow } from '../services/jobs/job-row.js';

/** A webhook attempt's outcome: a 2xx, a failure that will be retried, or a failure given up. */
export type WebhookOutcome = 'delivered' | 'retrying' | 'failed';

/**
 * What a worker reports as it works, for whoever watches (the process's metrics). Called inline,
 * so an implementation must be cheap and must not throw.
 */
export interface WorkerObserver {
  /** A job this worker claimed (`runAt` and the claim's `heartbeatAt` are the database's times). */
  jobClaimed(job: JobRow): void;
  /** The attempt ended: the status it was settled to (`queued` for a retry) and how long it ran. */
  jobEnded(job: JobRow, status: JobStatus, renderSeconds: number): void;
  webhookDelivery(outcome: WebhookOutcome): void;
}
