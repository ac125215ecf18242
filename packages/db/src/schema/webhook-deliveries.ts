import { bigint, bigserial, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { companies } from './companies.js';
import { contentJobs } from './content-jobs.js';
import { contentJobEvents } from './content-job-events.js';

/** The webhook outbox: one row per terminal event of a job that has a webhook_url. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    companyId: uuid('company_id').notNull().references(() => companies.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id').notNull().references(() => contentJobs.id, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'bigint' }).notNull().references(() => contentJobEvents.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    attempt: integer('attempt').notNull().default(0),
    statusCode: integer('status_code'),
    error: text('error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    /** Set while a worker sends an attempt (its lease); null otherwise. */
    inFlightUntil: timestamp('in_flight_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_deliveries_company_job_idx').on(t.companyId, t.jobId)],
);
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
