import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { AssetMetadata, AssetRole } from '@kiln/shared';
import { companies } from './companies.js';
import { contentJobs } from './content-jobs.js';

export const assets = pgTable(
  'assets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    companyId: uuid('company_id').notNull().references(() => companies.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    namespace: text('namespace').notNull(),
    objectKey: text('object_key').notNull(),
    contentType: text('content_type').notNull(),
    byteSize: bigint('byte_size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    originalFilename: text('original_filename').notNull(),
    sourceTaskId: text('source_task_id'),
    sourceJobId: uuid('source_job_id').references(() => contentJobs.id, { onDelete: 'set null' }),
    role: text('role').$type<AssetRole>().notNull(),
    metadata: jsonb('metadata').$type<AssetMetadata>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('assets_company_object_key_idx').on(t.companyId, t.objectKey),
    index('assets_company_created_idx').on(t.companyId, t.createdAt.desc(), t.id.desc()),
    index('assets_company_task_idx').on(t.companyId, t.sourceTaskId),
    index('assets_company_job_idx').on(t.companyId, t.sourceJobId),
  ],
);
export type AssetRow = typeof assets.$inferSelect;
