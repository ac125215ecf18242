import { index, integer, jsonb, pgTable, real, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { JobStatus } from '@kiln/shared';
import { companies } from './companies.js';

/** The job table is also the queue: `status` is the queue state (see ARCHITECTURE "Queue and workers"). */
export const contentJobs = pgTable(
  'content_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    companyId: uuid('company_id').notNull().references(() => companies.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    input: jsonb('input').notNull(),
    status: text('status').$type<JobStatus>().notNull().default('queued'),
    progress: real('progress').notNull().default(0),
    stage: text('stage'),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    priority: integer('priority').notNull().default(0),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedBy: text('locked_by'),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    timeoutMs: integer('timeout_ms').notNull(),
    sourceTaskId: text('source_task_id'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    webhookUrl: text('webhook_url'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true }),
    requestedBy: text('requested_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('content_jobs_company_created_idx').on(t.companyId, t.createdAt.desc(), t.id.desc()),
    index('content_jobs_company_task_idx').on(t.companyId, t.sourceTaskId),
    uniqueIndex('content_jobs_company_idempotency_idx').on(t.companyId, t.idempotencyKey),
  ],
);
export type ContentJobRow = typeof contentJobs.$inferSelect;
