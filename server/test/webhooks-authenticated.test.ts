import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createDatabase, ensureDatabase } from '@kiln/db';
import { apiKeyService } from '../src/services/auth/api-key-service.js';
import { loadConfig } from '../src/config.js';
import { classifyAddress } from '../src/services/webhooks/ip-address-class.js';
import type { HostResolver } from '../src/services/webhooks/outbound-guard.js';
import { startTestKiln, type TestKiln } from './support/test-kiln.js';
import { TEST_RENDERERS } from './support/test-kiln-with-test-kinds.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Webhooks in authenticated mode: private addresses refused at submit and at delivery, secrets
 * and the ledger per company. Names resolve through a fake resolver, and the injected classifier
 * calls 127.0.0.1 "public" so that the strict path can deliver to a loopback receiver; every
 * other loopback address stays loopback. No traffic leaves loopback.
 */
let kiln: TestKiln;
let receiver: WebhookReceiver;
let adminKey: string;
let acme: { id: string; webhookSecret: string; key: string };
let globex: { id: string; webhookSecret: string; key: string };

const resolutions = new Map<string, string[][]>();
/** Each call for a name takes the next answer; the last one repeats. */
const fakeResolver: HostResolver = async (hostname) => {
  const answers = resolutions.get(hostname);
  if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  const addresses = answers.length > 1 ? answers.shift()! : answers[0]!;
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const as = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  kiln = await startTestKiln(
    { KILN_DEPLOYMENT_MODE: 'authenticated' },
    {
      rendererModules: [TEST_RENDERERS],
      webhooks: { resolve: fakeResolver, classify: (a) => (a === '127.0.0.1' ? 'public' : classifyAddress(a)) },
    },
  );
  receiver = await startWebhookReceiver();
  resolutions.set('hooks.acme.test', [['127.0.0.1']]);
  resolutions.set('loopback.evil.test', [['127.0.0.2']]);
  resolutions.set('private.evil.test', [['10.1.2.3']]);
  resolutions.set('metadata.evil.test', [['169.254.169.254']]);
  resolutions.set('mapped.evil.test', [['::ffff:192.168.1.1']]);
  resolutions.set('ula.evil.test', [['fd00::1']]);
  resolutions.set('cgnat.evil.test', [['100.64.1.1']]);
  resolutions.set('split.evil.test', [['127.0.0.1', '192.168.0.10']]);
  const keys = apiKeyService(kiln.database.pool);
  adminKey = (await keys.create({ companyId: null, name: 'admin' })).key;
  const make = async (name: string) => {
    const res = await kiln.api('POST', '/api/companies', { name }, as(adminKey));
    expect(res.status).toBe(201);
    return { ...res.body, key: (await keys.create({ companyId: res.body.id, name })).key };
  };
  acme = await make('Acme');
  globex = await make('Globex');
});
afterAll(async () => {
  await kiln?.cleanup();
  await receiver?.close();
});

const submitAs = (key: string, companyId: string, webhookUrl: string) =>
  kiln.api('POST', `/api/companies/${companyId}/content-jobs`, { kind: 'test-bytes', input: { bytes: 10 }, webhookUrl }, as(key));

async function ledgerUntil(key: string, companyId: string, jobId: string, pred: (items: any[]) => boolean) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await kiln.api('GET', `/api/companies/${companyId}/content-jobs/${jobId}/webhook-deliveries`, undefined, as(key));
    expect(res.status).toBe(200);
    if (pred(res.body.items)) return res.body.items as any[];
    if (Date.now() > deadline) throw new Error(`ledger not as expected: ${JSON.stringify(res.body.items)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhookUrl at submit (authenticated mode)', () => {
  it('answers 400 webhook_url_forbidden for every forbidden address, by literal or by name, and for names that do not resolve', async () => {
    const port = receiver.port;
    const forbidden = [
      `http://127.0.0.2:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://[::ffff:127.0.0.2]:${port}/hook`,
      'http://10.0.0.5/hook',
      'http://172.20.1.1/hook',
      'http://192.168.1.20/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.100.100.200/',
      'http://100.64.0.1/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://0.0.0.0:8080/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
      'http://192.0.2.10/',
      'http://198.18.0.1/',
      'http://[64:ff9b::a9fe:a9fe]/',
      `http://loopback.evil.test:${port}/hook`,
      'https://private.evil.test/hook',
      'http://metadata.evil.test/',
      'http://mapped.evil.test/',
      'http://ula.evil.test/',
      'http://cgnat.evil.test/',
      'http://split.evil.test/',
      'http://does-not-exist.evil.test/',
    ];
    for (const url of forbidden) {
      const res = await submitAs(acme.key, acme.id, url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe('webhook_url_forbidden');
      expect(res.body.error.details).toEqual([{ path: ['webhookUrl'], message: expect.any(String) }]);
      expect(JSON.stringify(res.body), url).not.toMatch(/10\.1\.2\.3|169\.254|192\.168|loopback|private|metadata/);
    }
    const { rows } = await kiln.database.pool.query('SELECT count(*)::int AS n FROM content_jobs WHERE company_id = $1', [acme.id]);
    expect(rows[0].n).toBe(0);
  });

  it('accepts an allowed host and delivers to the address it was vetted at, signed with the company secret', async () => {
    const res = await submitAs(acme.key, acme.id, `http://hooks.acme.test:${receiver.port}/hook`);
    expect(res.status).toBe(202);
    const jobId = res.body.jobId;
    await receiver.waitFor((r) => r.some((x) => x.body?.job?.id === jobId));
    const got = receiver.received.find((x) => x.body?.job?.id === jobId)!;
    expect(got.headers.host).toBe(`hooks.acme.test:${receiver.port}`);
    expect(new Webhook(acme.webhookSecret).verify(got.raw, got.headers as Record<string, string>)).toEqual(got.body);
    expect(() => new Webhook(globex.webhookSecret).verify(got.raw, got.headers as Record<string, string>)).toThrow();
  });

  it('vets again at delivery: a name that now resolves to a forbidden address is a failed attempt, and nothing is sent', async () => {
    // First answer (submit): the allowed address; every later one (delivery): another loopback address.
    resolutions.set('rebind.acme.test', [['127.0.0.1'], ['127.0.0.3']]);
    const before = receiver.received.length;
    const res = await submitAs(acme.key, acme.id, `http://rebind.acme.test:${receiver.port}/hook`);
    expect(res.status).toBe(202);
    const [row] = await ledgerUntil(acme.key, acme.id, res.body.jobId, (items) => items[0]?.attempt >= 1 && items[0]?.error);
    expect(row).toMatchObject({ statusCode: null, deliveredAt: null, error: 'refused: the host does not resolve to an address this server may send to' });
    expect(receiver.received.length).toBe(before);
  });
});

describe('secrets and the ledger per company', () => {
  it('returns the secret on create only; rotation by the admin or the company itself, another company gets 404', async () => {
    const list = await kiln.api('GET', '/api/companies', undefined, as(adminKey));
    expect(JSON.stringify(list.body)).not.toMatch(/whsec_/);
    expect(JSON.stringify((await kiln.api('GET', `/api/companies/${acme.id}`, undefined, as(acme.key))).body)).not.toMatch(/whsec_/);
    expect((await kiln.api('POST', '/api/companies', { name: 'Sneaky' }, as(acme.key))).status).toBe(403);

    const rotate = (key?: string) => kiln.api('POST', `/api/companies/${globex.id}/webhook-secret/rotate`, undefined, key ? as(key) : {});
    expect((await rotate()).status).toBe(401);
    const foreign = await rotate(acme.key);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('company_not_found');
    const own = await rotate(globex.key);
    expect(own.status).toBe(200);
    expect(own.body.webhookSecret).toMatch(/^whsec_/);
    const byAdmin = await rotate(adminKey);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.webhookSecret).not.toBe(own.body.webhookSecret);
    const { rows } = await kiln.database.pool.query('SELECT webhook_secret, previous_webhook_secret FROM companies WHERE id = $1', [globex.id]);
    expect(rows[0]).toEqual({ webhook_secret: byAdmin.body.webhookSecret, previous_webhook_secret: own.body.webhookSecret });
  });

  it("keeps each company's ledger to itself: another company's key gets 404 on list and redeliver", async () => {
    const res = await submitAs(acme.key, acme.id, `http://hooks.acme.test:${receiver.port}/hook`);
    const jobId = res.body.jobId;
    const [row] = await ledgerUntil(acme.key, acme.id, jobId, (items) => items[0]?.state === 'delivered');

    const list = await kiln.api('GET', `/api/companies/${acme.id}/content-jobs/${jobId}/webhook-deliveries`, undefined, as(globex.key));
    expect(list.status).toBe(404);
    expect(list.body.error.code).toBe('company_not_found');
    const viaAcmePath = await kiln.api('POST', `/api/companies/${acme.id}/webhook-deliveries/${row.id}/redeliver`, undefined, as(globex.key));
    expect(viaAcmePath.status).toBe(404);
    expect(viaAcmePath.body.error.code).toBe('company_not_found');
    const viaOwnPath = await kiln.api('POST', `/api/companies/${globex.id}/webhook-deliveries/${row.id}/redeliver`, undefined, as(globex.key));
    expect(viaOwnPath.status).toBe(404);
    expect(viaOwnPath.body.error.code).toBe('webhook_delivery_not_found');
    const jobViaOwnPath = await kiln.api('GET', `/api/companies/${globex.id}/content-jobs/${jobId}/webhook-deliveries`, undefined, as(globex.key));
    expect(jobViaOwnPath.status).toBe(404);
    expect(jobViaOwnPath.body.error.code).toBe('job_not_found');

    const mine = await kiln.api('POST', `/api/companies/${acme.id}/webhook-deliveries/${row.id}/redeliver`, undefined, as(acme.key));
    expect(mine.status).toBe(202);
    await receiver.waitFor((r) => r.filter((x) => x.body?.job?.id === jobId).length === 2);
  });
});

describe('KILN_WEBHOOK_ALLOW_PRIVATE', () => {
  it('defaults to true in local_trusted and false in authenticated; an explicit value wins; anything else is refused', () => {
    expect(loadConfig({}).webhookAllowPrivate).toBe(true);
    expect(loadConfig({ KILN_DEPLOYMENT_MODE: 'authenticated' }).webhookAllowPrivate).toBe(false);
    expect(loadConfig({ KILN_DEPLOYMENT_MODE: 'authenticated', KILN_WEBHOOK_ALLOW_PRIVATE: 'true' }).webhookAllowPrivate).toBe(true);
    expect(loadConfig({ KILN_WEBHOOK_ALLOW_PRIVATE: 'false' }).webhookAllowPrivate).toBe(false);
    expect(() => loadConfig({ KILN_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/KILN_WEBHOOK_ALLOW_PRIVATE/);
  });
});

describe('migration 0004', () => {
  it('gives every existing company its own secret', async () => {
    const url = await ensureDatabase(inject('pgAdminUrl'), `kiln_m_${randomBytes(6).toString('hex')}`);
    const db = createDatabase(url, { maxConnections: 1 });
    try {
      const migration = (name: string) => readFile(new URL(`../../packages/db/migrations/${name}`, import.meta.url), 'utf8');
      await db.pool.query(await migration('0001_initial.sql'));
      await db.pool.query(await migration('0002_webhook_deliveries.sql'));
      await db.pool.query(`INSERT INTO companies (name) SELECT 'c' || i FROM generate_series(1, 5) AS i`);
      await db.pool.query(await migration('0004_webhook_secrets.sql'));
      const { rows } = await db.pool.query<{ webhook_secret: string }>('SELECT webhook_secret FROM companies');
      expect(rows).toHaveLength(5);
      expect(new Set(rows.map((r) => r.webhook_secret)).size).toBe(5);
      for (const { webhook_secret: s } of rows) {
        expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
        expect(() => new Webhook(s)).not.toThrow();
      }
    } finally {
      await db.close();
    }
  });
});
