import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { createValidationPool, type ValidationPool } from '../src/render-processes/validation-pool.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';

/**
 * The validation pool when every checker is taken: input checks and upload inspections both
 * answer "busy" (which the API turns into 503 server_busy), never an error of their own — and
 * once a checker is free again, both work.
 */
let pool: ValidationPool;
beforeAll(async () => {
  pool = createValidationPool({ size: 1, rendererModules: [TEST_RENDERERS], memoryLimitMb: 512, timeBudgetMs: 10_000, queueTimeoutMs: 300 });
  await pool.warm();
});
afterAll(() => pool?.close());

const csv = 'n\n1\n2\n3\n';
const openCsv = async () => ({ stream: Readable.from([Buffer.from(csv)]), byteSize: csv.length });

describe('a validation pool with its only checker busy', () => {
  it('answers busy to an input check and to an upload inspection, then checks both once it is free', async () => {
    // Holds the one checker for 1.5 s (waiting, not computing, so the CPU budget is not spent).
    const holding = pool.validate('test-slow-check', { checkMs: 0, waitMs: 1500 });
    await new Promise((r) => setTimeout(r, 100));

    expect(await pool.validate('test-slow-check', { checkMs: 0 })).toEqual({ ok: false, busy: true });
    expect(await pool.inspectUpload({ contentType: 'text/csv', path: ['body'], maxBytes: 1024 }, openCsv)).toEqual({ ok: false, busy: true });

    expect(await holding).toMatchObject({ ok: true });
    expect(await pool.inspectUpload({ contentType: 'text/csv', path: ['body'], maxBytes: 1024 }, openCsv)).toEqual({
      ok: true,
      metadata: { format: 'csv', rows: 3 },
    });
  });
});
