import type { JobStatus } from '@kiln/shared';

/** Anything that runs a query: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends Record<string, any> = any>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  /** A named (prepared) statement, see db/prepared.ts. */
  query<R extends Record<string, any> = any>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface JobRow {
  id: string;
  companyId: string;
  kind: string;
  input: unknown;
  status: JobStatus;
  progress: number;
  stage: string | null;
  attempt: number;
  maxAttempts: number;
  lostAttempts: number;
  priority: number;
  runAt: Date;
  lockedBy: string | null;
  heartbeatAt: Date | null;
  timeoutMs: number;
  sourceTaskId: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  webhookUrl: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  cancelRequestedAt: Date | null;
  requestedBy: string | null;
  warnings: string[];
  inputAssetIds: string[];
  outputName: string | null;
  /** What the renderer stored with ctx.checkpoint, for the next attempt. */
  checkpoint: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** The column list every job query returns, aliased to JobRow's camelCase names. */
export const JOB_COLUMNS = `
  j.id, j.company_id AS "companyId", j.kind, j.input, j.status, j.progress, j.stage, j.attempt,
  j.max_attempts AS "maxAttempts", j.lost_attempts AS "lostAttempts", j.priority, j.run_at AS "runAt", j.locked_by AS "lockedBy",
  j.heartbeat_at AS "heartbeatAt", j.timeout_ms AS "timeoutMs", j.source_task_id AS "sourceTaskId",
  j.idempotency_key AS "idempotencyKey", j.request_hash AS "requestHash", j.webhook_url AS "webhookUrl",
  j.error_code AS "errorCode", j.error_message AS "errorMessage",
  j.cancel_requested_at AS "cancelRequestedAt", j.requested_by AS "requestedBy", j.warnings,
  j.input_asset_ids::text[] AS "inputAssetIds", j.output_name AS "outputName", j.checkpoint,
  j.created_at AS "createdAt", j.started_at AS "startedAt", j.finished_at AS "finishedAt",
  j.updated_at AS "updatedAt"`;

/** The NOTIFY channels. Notifications carry ids only (PostgreSQL caps payloads at 8 kB). */
export const CHANNELS = {
  /** `<eventId>,<companyId>,<jobId>` for every content_job_events row. */
  events: 'kiln_events',
  /** Wakes idle workers: a job was queued. */
  queue: 'kiln_queue',
  /** `<jobId>`: cancellation was requested for a running job. */
  cancel: 'kiln_cancel',
} as const;
