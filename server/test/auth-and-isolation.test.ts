import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyService } from '../src/services/auth/api-key-service.js';
import { companyService } from '../src/services/companies/company-service.js';
import { loadConfig } from '../src/config.js';
import { connectSse } from './support/sse-client.js';
import { startTestKiln, svgOf, type TestKiln } from './support/test-kiln.js';

let kiln: TestKiln;
let acme: string;
let globex: string;
let adminKey: string;
let acmeKey: string;
let globexKey: string;

beforeAll(async () => {
  kiln = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated' });
  const companies = companyService(kiln.database.pool);
  const keys = apiKeyService(kiln.database.pool);
  acme = (await companies.create({ name: 'Acme' })).id;
  globex = (await companies.create({ name: 'Globex' })).id;
  adminKey = (await keys.create({ companyId: null, name: 'admin' })).key;
  acmeKey = (await keys.create({ companyId: acme, name: 'acme' })).key;
  globexKey = (await keys.create({ companyId: globex, name: 'globex' })).key;
});
afterAll(async () => kiln?.cleanup());

const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('authenticated mode', () => {
  it('requires a valid Bearer key (401 JSON), except for health and readiness', async () => {
    const none = await kiln.api('GET', `/api/companies/${acme}/content-jobs`);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    expect((await kiln.api('GET', '/api/companies', undefined, as('kiln_wrong'))).status).toBe(401);
    expect((await kiln.api('GET', '/api/health')).status).toBe(200);
    expect((await kiln.api('GET', '/api/ready')).status).toBe(200);
  });

  it('stores keys only as sha256', async () => {
    const { rows } = await kiln.database.pool.query('SELECT key_hash FROM api_keys');
    for (const r of rows) {
      expect(r.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect([adminKey, acmeKey, globexKey]).not.toContain(r.key_hash);
    }
  });

  it('a company key sees its own company only; another company’s job, asset and stream answer 404', async () => {
    const created = await kiln.api('POST', `/api/companies/${acme}/content-jobs`, { kind: 'image', input: { svg: svgOf('#ff0000') } }, as(acmeKey));
    expect(created.status).toBe(202);
    const jobId = created.body.jobId;
    const job = await waitForJobAs(jobId);
    const assetId = job.assets[0].id;

    // Globex's key, Acme's resources: all 404, as if they did not exist.
    for (const p of [
      `/api/companies/${acme}/content-jobs/${jobId}`,
      `/api/companies/${acme}/content-jobs`,
      `/api/companies/${acme}/assets/${assetId}`,
      `/api/companies/${acme}/assets/${assetId}/content`,
      `/api/companies/${acme}/content-jobs/${jobId}/events`,
      `/api/companies/${acme}/events`,
    ]) {
      const res = await kiln.api('GET', p, undefined, as(globexKey));
      expect(res.status, p).toBe(404);
      expect(res.body.error.code).toBe('company_not_found');
    }
    // Through its own company path, the job id of another company is simply not found.
    const viaOwn = await kiln.api('GET', `/api/companies/${globex}/content-jobs/${jobId}`, undefined, as(globexKey));
    expect(viaOwn.status).toBe(404);
    expect(viaOwn.body.error.code).toBe('job_not_found');
    const assetViaOwn = await kiln.api('GET', `/api/companies/${globex}/assets/${assetId}/content`, undefined, as(globexKey));
    expect(assetViaOwn.status).toBe(404);
    const delViaOwn = await kiln.api('DELETE', `/api/companies/${globex}/assets/${assetId}`, undefined, as(globexKey));
    expect(delViaOwn.status).toBe(404);
    const cancelViaOwn = await kiln.api('POST', `/api/companies/${globex}/content-jobs/${jobId}/cancel`, undefined, as(globexKey));
    expect(cancelViaOwn.status).toBe(404);

    // The owner and the admin do see it.
    expect((await kiln.api('GET', `/api/companies/${acme}/assets/${assetId}`, undefined, as(acmeKey))).status).toBe(200);
    expect((await kiln.api('GET', `/api/companies/${acme}/assets/${assetId}`, undefined, as(adminKey))).status).toBe(200);

    // Company listing is filtered; creating companies needs the admin key.
    const list = await kiln.api('GET', '/api/companies', undefined, as(globexKey));
    expect(list.body.items.map((c: any) => c.id)).toEqual([globex]);
    expect((await kiln.api('POST', '/api/companies', { name: 'X' }, as(globexKey))).status).toBe(403);
    expect((await kiln.api('POST', '/api/companies', { name: 'X' }, as(adminKey))).status).toBe(201);

    // SSE with the right key works.
    const sse = await connectSse(`${kiln.url}/api/companies/${acme}/content-jobs/${jobId}/events`, as(acmeKey));
    await sse.ended;
    expect(sse.messages.at(-1)!.event).toBe('content_job.done');
  });

  it('a revoked key stops working', async () => {
    const keys = apiKeyService(kiln.database.pool);
    const k = await keys.create({ companyId: acme, name: 'temp' });
    expect((await kiln.api('GET', '/api/companies', undefined, as(k.key))).status).toBe(200);
    await keys.revoke(k.id);
    expect((await kiln.api('GET', '/api/companies', undefined, as(k.key))).status).toBe(401);
  });
});

describe('local_trusted mode', () => {
  it('refuses to bind a non-loopback host', () => {
    expect(() => loadConfig({ KILN_HOST: '0.0.0.0' })).toThrow(/loopback/);
    expect(() => loadConfig({ KILN_HOST: '0.0.0.0', KILN_DEPLOYMENT_MODE: 'authenticated' })).not.toThrow();
  });
});

async function waitForJobAs(jobId: string) {
  for (;;) {
    const res = await kiln.api('GET', `/api/companies/${acme}/content-jobs/${jobId}`, undefined, as(acmeKey));
    if (['done', 'failed', 'canceled'].includes(res.body.status)) return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
}
