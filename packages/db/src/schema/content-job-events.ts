import { bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { JobEventPayload, LiveEventType } from '@kiln/shared';
import { companies } from './companies.js';
import { contentJobs } from './content-jobs.js';

/** The durable log of everything that happened to a job; its ids are the SSE event ids. */
export const contentJobEvents = pgTable(
  'content_job_events',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    companyId: uuid('company_id').notNull().references(() => companies.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id').notNull().references(() => contentJobs.id, { onDelete: 'cascade' }),
    type: text('type').$type<LiveEventType>().notNull(),
    payload: jsonb('payload').$type<JobEventPayload>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('content_job_events_company_idx').on(t.companyId, t.id), index('content_job_events_job_idx').on(t.jobId, t.id)],
);
export type ContentJobEventRow = typeof contentJobEvents.$inferSelect;
