import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { filesUnder } from './support/files-under.js';
import { startTestKiln, svgOf, waitForJob, type TestKiln } from './support/test-kiln.js';

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(async () => kiln?.cleanup());

const jobs = () => `/api/companies/${kiln.companyId}/content-jobs`;


describe('a content job end to end', () => {
  it('answers 202 at once, runs, stores a real PNG as an asset linked to job and task', async () => {
    const res = await kiln.api('POST', jobs(), {
      kind: 'image',
      input: { svg: svgOf('#00ff00', 120, 60), format: 'png' },
      sourceTaskId: 'task-42',
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued' });
    expect(res.body.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('location')).toBe(`${jobs()}/${res.body.jobId}`);

    const job = await waitForJob(kiln, res.body.jobId);
    expect(job).toMatchObject({ status: 'done', progress: 1, attempt: 1, sourceTaskId: 'task-42', error: null });
    expect(job.startedAt).not.toBeNull();
    expect(job.finishedAt).not.toBeNull();
    const primary = job.assets.find((a: any) => a.role === 'primary');
    expect(primary).toMatchObject({ contentType: 'image/png', sourceTaskId: 'task-42', jobId: job.id });

    const download = await fetch(kiln.url + primary.url);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(primary.byteSize);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(primary.sha256);
    expect(download.headers.get('etag')).toBe(`"${primary.sha256}"`);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([120, 60]);
    expect([data[0], data[1], data[2]]).toEqual([0, 255, 0]);

    // The file lives under <company>/generated/yyyy/mm/dd/ and there is nothing else on disk.
    const files = await filesUnder(path.join(kiln.dataDir, 'storage'));
    const mine = files.filter((f) => f.includes(`${kiln.companyId}${path.sep}generated${path.sep}`));
    expect(mine.length).toBe(job.assets.length);

    const assets = await kiln.api('GET', `/api/companies/${kiln.companyId}/assets?sourceTaskId=task-42`);
    expect(assets.body.items.map((a: any) => a.id).sort()).toEqual(job.assets.map((a: any) => a.id).sort());
  });
});
