/** Every state a content job can be in. `content_jobs.status` holds exactly these. */
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export type TerminalStatus = 'done' | 'failed' | 'canceled';
export const TERMINAL_STATUSES: readonly TerminalStatus[] = ['done', 'failed', 'canceled'];

export function isTerminalStatus(status: JobStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly JobStatus[]).includes(status);
}

/** What a renderer writes: the output itself, and a small preview of it. */
export const OUTPUT_ROLES = ['primary', 'preview'] as const;
export type OutputRole = (typeof OUTPUT_ROLES)[number];
/** Every asset is an output of a job, or a file a caller uploaded (`input`). */
export const ASSET_ROLES = [...OUTPUT_ROLES, 'input'] as const;
export type AssetRole = (typeof ASSET_ROLES)[number];
