/** Every state a content job can be in. `content_jobs.status` holds exactly these. */
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['done', 'failed', 'canceled'];

export function isTerminalStatus(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const ASSET_ROLES = ['primary', 'preview'] as const;
export type AssetRole = (typeof ASSET_ROLES)[number];
