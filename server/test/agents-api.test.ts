import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKiln, waitForJob, type TestKiln } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';

/** What an agent with only the base URL needs: find the API, wait for a result, read the output, follow lineage. */
let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln({}, { rendererModules: [TEST_RENDERERS] });
});
afterAll(() => kiln?.cleanup());

const jobs = () => `/api/companies/${kiln.companyId}/content-jobs`;

describe('finding the API', () => {
  it('GET /api is a JSON index with the docs, the OpenAPI document, the guide and the default company', async () => {
    const res = await kiln.api('GET', '/api');
    expect(res.status).toBe(200);
    expect(res.body.links).toMatchObject({ docs: '/api/docs', openapi: '/api/openapi.json', guideForAgents: '/llms.txt', renderers: '/api/renderers' });
    expect(res.body.defaultCompany).toEqual({ id: kiln.companyId, alias: 'default', url: `/api/companies/${kiln.companyId}` });
    expect(res.body.kinds).toEqual(expect.arrayContaining(['image', 'chart', 'document', 'speech', 'video']));
    for (const link of ['docs', 'openapi', 'guideForAgents', 'renderers', 'health']) {
      expect((await fetch(kiln.url + res.body.links[link])).status, link).toBe(200);
    }
  });

  it('every 404 under /api names /api/docs', async () => {
    for (const path of ['/api/jobs', '/api/v1/content-jobs', `/api/companies/${kiln.companyId}/jobs`, '/api/openapi.yaml']) {
      const res = await kiln.api('GET', path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(res.body.error.message).toContain('/api/docs');
      expect(res.body.error.details.docs).toBe('/api/docs');
    }
  });

  it('/llms.txt is a plain-text guide with the default company, one example per kind, waiting and uploading', async () => {
    const res = await fetch(`${kiln.url}/llms.txt`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain(kiln.companyId);
    for (const kind of ['image', 'chart', 'document', 'speech', 'video']) expect(text).toContain(`"kind":"${kind}"`);
    expect(text).toContain('Prefer: wait=');
    expect(text).toContain('/api/companies/default/assets');
    // How to embed an asset and break a page, the two things a laid-out document needs.
    expect(text).toContain('![alt](asset:<id>)');
    expect(text).toContain('\\pagebreak');
    // The examples in the guide are accepted as written.
    for (const line of text.split('\n').filter((l) => l.trim().startsWith('{"kind":"'))) {
      const body = JSON.parse(line.trim());
      if (!['image', 'chart'].includes(body.kind)) continue; // the quick ones
      const r = await kiln.api('POST', '/api/companies/default/content-jobs', body);
      expect(r.status, line).toBe(202);
    }
  });

  it('`default` works wherever a company id goes (local_trusted)', async () => {
    const res = await kiln.api('POST', '/api/companies/default/content-jobs', { kind: 'test-slow', input: { ms: 0, steps: 1 } });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/companies/${kiln.companyId}/content-jobs/${res.body.jobId}`);
    expect((await kiln.api('GET', `/api/companies/default/content-jobs/${res.body.jobId}`)).body.companyId).toBe(kiln.companyId);
    expect((await kiln.api('GET', '/api/companies/default')).body.id).toBe(kiln.companyId);
  });
});

describe('waiting for a result', () => {
  it('Prefer: wait=N answers 200 with the finished job when it ends in time', async () => {
    const res = await kiln.api('POST', jobs(), { kind: 'test-slow', input: { ms: 300, steps: 2 }, outputName: 'greeting.md' }, { prefer: 'wait=20' });
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=20');
    expect(res.body).toMatchObject({ status: 'done', jobId: res.body.id, outputName: 'greeting.md' });
    // The output first: the primary, with its name (the output's own extension) and URL.
    expect(res.body.output).toMatchObject({ role: 'primary', filename: 'greeting.txt' });
    expect(res.body.outputs).toHaveLength(1);
    expect(res.body.assets[0].role).toBe('primary');
    const file = await fetch(kiln.url + res.body.output.url);
    expect(file.headers.get('content-disposition')).toContain('greeting.txt');
    expect(await file.text()).toContain('slept 300 ms');
  });

  it('answers the usual 202 when the job takes longer; N above 60 counts as 60', async () => {
    const res = await kiln.api('POST', jobs(), { kind: 'test-slow', input: { ms: 4000, steps: 2 } }, { prefer: 'respond-async, wait=1' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued' });
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    // GET ?wait=N answers when it ends.
    const done = await kiln.api('GET', `${jobs()}/${res.body.jobId}?wait=30`);
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('done');
    const capped = await kiln.api('POST', jobs(), { kind: 'test-slow', input: { ms: 0, steps: 1 } }, { prefer: 'wait=600' });
    expect(capped.headers.get('preference-applied')).toBe('wait=60');
    expect(capped.status).toBe(200);
  });

  it('GET ?wait=N gives the job as it is after N seconds when it has not ended', async () => {
    const { body } = await kiln.api('POST', jobs(), { kind: 'test-slow', input: { ms: 20_000, steps: 20 } });
    const res = await kiln.api('GET', `${jobs()}/${body.jobId}?wait=1`);
    expect(res.status).toBe(200);
    expect(['queued', 'running']).toContain(res.body.status);
    expect(res.body.output).toBeNull();
    await kiln.api('POST', `${jobs()}/${body.jobId}/cancel`);
  });

  it('a failed job is answered at once with its error', async () => {
    const res = await kiln.api('POST', jobs(), { kind: 'test-fail', input: { code: 'render_failed' } }, { prefer: 'wait=30' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'render_failed' }, output: null });
  });
});

describe('lineage', () => {
  it('records what each job read, and walks from an asset to what it was made from and what was made from it', async () => {
    const a = await kiln.api('POST', jobs(), { kind: 'test-slow', input: { ms: 0, steps: 1 } }, { prefer: 'wait=30' });
    const assetA = a.body.output.id;
    const b = await kiln.api('POST', jobs(), { kind: 'test-copy', input: { assetId: assetA } }, { prefer: 'wait=30' });
    expect(b.body.inputAssetIds).toEqual([assetA]);
    const assetB = b.body.output.id;
    expect(b.body.output.derivedFrom).toEqual([assetA]);
    const c = await kiln.api('POST', jobs(), { kind: 'test-copy', input: { assetId: assetB } }, { prefer: 'wait=30' });
    const assetC = c.body.output.id;

    const ofB = await kiln.api('GET', `/api/companies/${kiln.companyId}/assets/${assetB}/lineage`);
    expect(ofB.status).toBe(200);
    expect(ofB.body.asset.id).toBe(assetB);
    expect(ofB.body.ancestors.map((n: any) => [n.depth, n.asset.id])).toEqual([[1, assetA]]);
    expect(ofB.body.descendants.map((n: any) => [n.depth, n.asset.id])).toEqual([[1, assetC]]);
    const ofC = await kiln.api('GET', `/api/companies/${kiln.companyId}/assets/${assetC}/lineage`);
    expect(ofC.body.ancestors.map((n: any) => [n.depth, n.asset.id])).toEqual([[1, assetB], [2, assetA]]);
    expect(ofC.body.descendants).toEqual([]);
    const ofA = await kiln.api('GET', `/api/companies/${kiln.companyId}/assets/${assetA}/lineage`);
    expect(ofA.body.descendants.map((n: any) => [n.depth, n.asset.id])).toEqual([[1, assetB], [2, assetC]]);
    const job = await waitForJob(kiln, c.body.id);
    expect(job.inputAssetIds).toEqual([assetB]);
  });
});
