import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { classifyAddress, type AddressClass } from '../src/services/webhooks/ip-address-class.js';
import { createOutboundGuard, OutboundRefusal, type HostResolver } from '../src/services/webhooks/outbound-guard.js';
import { postToVettedTarget } from '../src/services/webhooks/pinned-post.js';
import { signatureHeaders } from '../src/services/webhooks/webhook-signature.js';

/**
 * The outbound guard with IP literals and a fake resolver: nothing here resolves a real name or
 * sends a packet beyond loopback. "Public" addresses are only classified and vetted, never
 * connected to; the connecting tests map made-up `.test` names to 127.0.0.1.
 */

const BY_CLASS: Record<Exclude<AddressClass, 'invalid'>, string[]> = {
  public: ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'],
  loopback: ['127.0.0.1', '127.255.255.254', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1'],
  private: ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fd12:3456::1', '::ffff:10.1.2.3', '::ffff:0:192.168.0.1', '64:ff9b:1::a00:1', 'fec0::1'],
  link_local: ['169.254.1.1', 'fe80::1', 'fe80::1%eth0', '::ffff:169.254.10.10'],
  shared: ['100.64.0.1', '100.127.255.254'],
  metadata: ['169.254.169.254', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', 'fd00:ec2::254', '100.100.100.200', '192.0.0.192', '168.63.129.16', '169.254.170.2'],
  multicast: ['224.0.0.1', '239.255.255.250', 'ff02::1', '::ffff:224.0.0.1'],
  unspecified: ['0.0.0.0', '0.1.2.3', '::', '::ffff:0.0.0.0'],
  broadcast: ['255.255.255.255', '::ffff:255.255.255.255'],
  documentation: ['192.0.2.1', '198.51.100.7', '203.0.113.9', '2001:db8::1', '3fff::1'],
  benchmark: ['198.18.0.1', '198.19.255.255', '2001:2::1'],
  reserved: ['240.0.0.1', '192.0.0.8', '192.88.99.1', '100::1', '2001::1', '2001:10::1', '4000::1', '::ffff:240.0.0.1'],
};
const FORBIDDEN_ALWAYS = ['metadata', 'multicast', 'unspecified', 'broadcast', 'documentation', 'benchmark', 'reserved'] as const;
const PRIVATE = ['loopback', 'private', 'link_local', 'shared'] as const;

/** A fake DNS: each `<class>-<i>.kiln.test` name maps to that class's i-th address. */
const names = new Map<string, string[]>();
for (const [cls, addresses] of Object.entries(BY_CLASS)) addresses.forEach((a, i) => names.set(`${cls.replace('_', '-')}-${i}.kiln.test`, [a]));
names.set('mixed.kiln.test', ['8.8.8.8', '10.0.0.1']);
const fakeResolver: HostResolver = async (hostname) => {
  const found = names.get(hostname);
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const literalUrl = (a: string) => (a.includes(':') ? `http://[${a.split('%')[0]}]/hook` : `http://${a}/hook`);

async function refusal(p: Promise<unknown>): Promise<OutboundRefusal> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, 'refused').toBeInstanceOf(OutboundRefusal);
  return err as OutboundRefusal;
}

describe('classifyAddress', () => {
  it('puts every address in its class, judging IPv4-mapped, compatible, NAT64 and 6to4 forms by the IPv4 address inside', () => {
    for (const [cls, addresses] of Object.entries(BY_CLASS)) {
      for (const a of addresses) expect(classifyAddress(a), a).toBe(cls);
    }
    for (const bad of ['', 'localhost', '1.2.3', '1.2.3.256', '::1::2', '12345::1']) expect(classifyAddress(bad), bad).toBe('invalid');
  });
});

describe('outbound guard', () => {
  const strict = createOutboundGuard({ allowPrivate: false, resolve: fakeResolver });
  const lenient = createOutboundGuard({ allowPrivate: true, resolve: fakeResolver });

  it('refuses every non-public class by IP literal and by a name that resolves there', async () => {
    for (const [cls, addresses] of Object.entries(BY_CLASS)) {
      if (cls === 'public') continue;
      for (const [i, a] of addresses.entries()) {
        // fe80::1%eth0 can't be written in a URL; its name stands for it.
        if (!a.includes('%')) expect((await refusal(strict.vet(literalUrl(a)))).addressClass, a).toBe(cls);
        const name = `http://${cls.replace('_', '-')}-${i}.kiln.test:8080/hook`;
        const r = await refusal(strict.vet(name));
        expect(r).toMatchObject({ reason: 'forbidden_address', addressClass: cls, address: a });
        // The message a tenant sees names neither the address nor its class.
        expect(r.message).not.toContain(a);
        expect(r.message).not.toContain(cls);
      }
    }
  });

  it('also refuses loopback written as a decimal or hex IPv4 (the URL parser normalises it)', async () => {
    for (const u of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/']) {
      expect((await refusal(strict.vet(u))).addressClass, u).toBe('loopback');
    }
  });

  it('vets public addresses (literal or by name) without connecting, and refuses a name with any forbidden address', async () => {
    // The URL parser rewrites IPv6 literals (::ffff:8.8.8.8 → ::ffff:808:808); the class is what counts.
    for (const a of BY_CLASS.public) expect(classifyAddress((await strict.vet(literalUrl(a))).address), a).toBe('public');
    const t = await strict.vet('https://public-1.kiln.test/hooks?x=1');
    expect(t).toMatchObject({ hostname: 'public-1.kiln.test', address: '1.1.1.1', family: 4 });
    expect((await refusal(strict.vet('http://mixed.kiln.test/'))).addressClass).toBe('private');
  });

  it('refuses unresolvable hosts, slow resolution and non-http URLs', async () => {
    expect((await refusal(strict.vet('http://nowhere.kiln.test/'))).reason).toBe('unresolvable');
    const empty = createOutboundGuard({ allowPrivate: true, resolve: async () => [] });
    expect((await refusal(empty.vet('http://empty.kiln.test/'))).reason).toBe('unresolvable');
    const hanging = createOutboundGuard({ allowPrivate: true, resolve: () => new Promise(() => undefined), resolveTimeoutMs: 100 });
    expect((await refusal(hanging.vet('http://slow.kiln.test/'))).reason).toBe('unresolvable');
    for (const u of ['file:///etc/passwd', 'ftp://public-0.kiln.test/', 'gopher://8.8.8.8/', 'not a url']) {
      expect((await refusal(strict.vet(u))).reason, u).toBe('bad_url');
    }
    // Unresolvable and forbidden read the same to the tenant.
    expect((await refusal(strict.vet('http://nowhere.kiln.test/'))).message).toBe((await refusal(strict.vet('http://10.0.0.1/'))).message);
  });

  it('with allowPrivate lets this host and private networks through, and still refuses metadata and non-unicast ranges', async () => {
    for (const cls of PRIVATE) {
      for (const a of BY_CLASS[cls].filter((x) => !x.includes('%'))) expect(classifyAddress((await lenient.vet(literalUrl(a))).address), a).toBe(cls);
    }
    for (const cls of FORBIDDEN_ALWAYS) {
      for (const a of BY_CLASS[cls]) expect((await refusal(lenient.vet(literalUrl(a)))).addressClass, a).toBe(cls);
    }
  });
});

describe('postToVettedTarget (loopback receivers only)', () => {
  let server: http.Server;
  let port: number;
  const seen: { url: string; host: string | undefined; body: string }[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let bytesWrittenByEndless = 0;
  let endlessClosed = false;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url!, host: req.headers.host, body });
        const path = req.url!.split('?')[0];
        if (path === '/ok') res.writeHead(204).end();
        else if (path === '/redirect') res.writeHead(302, { location: '/elsewhere' }).end();
        else if (path === '/endless') {
          // 200, then 64 KiB chunks for as long as the client keeps reading.
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = Buffer.alloc(64 * 1024, 120);
          const pump = () => {
            while (!res.destroyed) {
              bytesWrittenByEndless += chunk.length;
              if (!res.write(chunk)) break;
            }
          };
          res.on('drain', pump);
          res.on('close', () => (endlessClosed = true));
          pump();
        }
        // '/silent': never answers.
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const post = (target: Awaited<ReturnType<ReturnType<typeof createOutboundGuard>['vet']>>, extra: Partial<Parameters<typeof postToVettedTarget>[1]> = {}) =>
    postToVettedTarget(target, { headers: { 'content-type': 'application/json' }, body: Buffer.from('{"a":1}'), ...extra });

  it('connects to the vetted address, keeps the name in Host, and resolves the name exactly once', async () => {
    const lookups: string[] = [];
    // A name no real DNS knows: the request can only arrive if the vetted address is used.
    const guard = createOutboundGuard({
      allowPrivate: false,
      resolve: async (h) => {
        lookups.push(h);
        return [{ address: '127.0.0.1', family: 4 }];
      },
      // Stands in for "this address is public", so the strict path runs against loopback.
      classify: (a) => (a === '127.0.0.1' ? 'public' : classifyAddress(a)),
    });
    const target = await guard.vet(`http://receiver.kiln.test:${port}/ok?x=1`);
    const res = await post(target);
    expect(res).toEqual({ statusCode: 204, bytesRead: 0, truncated: false });
    expect(lookups).toEqual(['receiver.kiln.test']);
    expect(seen.at(-1)).toEqual({ url: '/ok?x=1', host: `receiver.kiln.test:${port}`, body: '{"a":1}' });
  });

  it('does not follow a redirect: the 3xx is the answer and Location is never requested', async () => {
    const guard = createOutboundGuard({ allowPrivate: true });
    const before = seen.length;
    const res = await post(await guard.vet(`http://127.0.0.1:${port}/redirect`));
    expect(res.statusCode).toBe(302);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/redirect']);
  });

  it('reads at most 64 KiB of an endless answer, then drops the connection', async () => {
    const guard = createOutboundGuard({ allowPrivate: true });
    const started = Date.now();
    const res = await post(await guard.vet(`http://127.0.0.1:${port}/endless`), { timeoutMs: 30_000 });
    const ms = Date.now() - started;
    expect(res).toEqual({ statusCode: 200, bytesRead: 64 * 1024, truncated: true });
    for (let i = 0; i < 100 && !endlessClosed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(endlessClosed).toBe(true);
    // Ended by the cap, not by the timeout (a generous bound on "did not hang").
    expect(ms).toBeLessThan(15_000);
    console.log(`endless answer: cut after ${ms} ms; receiver managed to write ${bytesWrittenByEndless} bytes before the drop`);
  });

  it('gives up on a receiver that never answers after the timeout', async () => {
    const guard = createOutboundGuard({ allowPrivate: true });
    await expect(post(await guard.vet(`http://127.0.0.1:${port}/silent`), { timeoutMs: 300 })).rejects.toThrow(/no complete answer within 0.3 s/);
  });

  it('stops at once when aborted', async () => {
    const guard = createOutboundGuard({ allowPrivate: true });
    const controller = new AbortController();
    const p = post(await guard.vet(`http://127.0.0.1:${port}/silent`), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(p).rejects.toThrow(/aborted/);
  });
});

describe('signatureHeaders', () => {
  it('signs with each secret; the standardwebhooks verifier accepts either one, and rejects a third', () => {
    const a = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`;
    const b = `whsec_${Buffer.from('b'.repeat(32)).toString('base64')}`;
    const c = `whsec_${Buffer.from('c'.repeat(32)).toString('base64')}`;
    const body = JSON.stringify({ type: 'content_job.done', eventId: '7' });
    const headers = signatureHeaders({ id: 'evt_7', timestamp: new Date(), body, secrets: [a, b] });
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(b).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(c).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(a).verify(body.replace('7', '8'), headers)).toThrow();
  });
});
