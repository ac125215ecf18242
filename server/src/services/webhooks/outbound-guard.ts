import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { KilnError } from '../../errors.js';
import { classifyAddress, PRIVATE_CLASSES, type AddressClass } from './ip-address-class.js';

/** Every address a host name resolves to. */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address, in its order. */
export const systemResolver: HostResolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export interface OutboundGuardOptions {
  /** Let loopback, private (RFC 1918, ULA), link-local and CGNAT addresses through. */
  allowPrivate: boolean;
  resolve?: HostResolver;
  classify?: (address: string) => AddressClass;
  /** A host that takes longer to resolve is refused like one that does not resolve. */
  resolveTimeoutMs?: number;
}

/** Where a request may go: the URL, and the one address to connect to for its host. */
export interface VettedTarget {
  url: URL;
  /** The host without IPv6 brackets: what goes in Host and SNI. */
  hostname: string;
  address: string;
  family: 4 | 6;
}

/**
 * Why a URL was refused. `message` is safe to show the company that owns the URL: it names
 * neither the addresses a name resolved to nor their class, so the answer can't be used to map
 * the server's network; `addressClass` and `address` are for the operator's log.
 */
export class OutboundRefusal extends Error {
  constructor(
    message: string,
    public readonly reason: 'bad_url' | 'unresolvable' | 'forbidden_address',
    public readonly address?: string,
    public readonly addressClass?: AddressClass,
  ) {
    super(message);
    this.name = 'OutboundRefusal';
  }
}

/** One message for "does not resolve" and "resolves somewhere forbidden" (see OutboundRefusal). */
const REFUSED = 'the host does not resolve to an address this server may send to';

export interface OutboundGuard {
  /** Resolves the URL's host and checks every address; throws OutboundRefusal. */
  vet(url: string): Promise<VettedTarget>;
}

/**
 * The guard for requests Kiln makes on a tenant's behalf (webhooks): only http(s), and only to a
 * host whose every address is allowed. A name resolving to one public and one private address is
 * refused, since the client could be steered to either. The caller connects to the returned
 * `address` (see `postToVettedTarget`), so no second lookup can answer differently.
 *
 * @example
 * const guard = createOutboundGuard({ allowPrivate: false });
 * await guard.vet('http://169.254.169.254/latest/meta-data'); // throws OutboundRefusal
 */
export function createOutboundGuard(opts: OutboundGuardOptions): OutboundGuard {
  const resolve = opts.resolve ?? systemResolver;
  const classify = opts.classify ?? classifyAddress;
  const timeoutMs = opts.resolveTimeoutMs ?? 5000;
  const allowed = (cls: AddressClass) => cls === 'public' || (opts.allowPrivate && PRIVATE_CLASSES.has(cls));

  async function addressesOf(hostname: string): Promise<{ address: string; family: number }[]> {
    const literal = isIP(hostname);
    if (literal) return [{ address: hostname, family: literal }];
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        resolve(hostname),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('resolution timed out')), timeoutMs);
        }),
      ]);
    } catch {
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async vet(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new OutboundRefusal('not a valid URL', 'bad_url');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusal('only http and https URLs are allowed', 'bad_url');
      // The WHATWG parser has already turned 0x7f.1, 2130706433 and friends into dotted IPv4.
      const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const found = await addressesOf(hostname);
      if (found.length === 0) throw new OutboundRefusal(REFUSED, 'unresolvable');
      for (const { address } of found) {
        const cls = classify(address);
        if (!allowed(cls)) throw new OutboundRefusal(REFUSED, 'forbidden_address', address, cls);
      }
      const first = found[0]!;
      return { url, hostname, address: first.address, family: isIP(first.address) === 6 ? 6 : 4 };
    },
  };
}

/**
 * The guard job submission checks `webhookUrl` with: on in `authenticated` mode, where callers
 * are tenants on a shared server; off (null) in `local_trusted`, where the caller is the local
 * admin (deliveries are still vetted at send time in both modes).
 */
export function webhookSubmitGuard(
  config: { deploymentMode: 'local_trusted' | 'authenticated'; webhookAllowPrivate: boolean },
  o: Pick<OutboundGuardOptions, 'resolve' | 'classify'> = {},
): OutboundGuard | null {
  if (config.deploymentMode !== 'authenticated') return null;
  return createOutboundGuard({ allowPrivate: config.webhookAllowPrivate, resolve: o.resolve, classify: o.classify });
}

/**
 * The submit-time check of a job's `webhookUrl`: a refusal is a 400 `webhook_url_forbidden`.
 * Without a guard (the check is off in this deployment mode) it does nothing.
 */
export async function assertWebhookUrlAllowed(guard: OutboundGuard | null | undefined, webhookUrl: string | undefined): Promise<void> {
  if (!guard || !webhookUrl) return;
  try {
    await guard.vet(webhookUrl);
  } catch (err) {
    if (!(err instanceof OutboundRefusal)) throw err;
    // A name that does not resolve gets the same answer as a forbidden one: telling them apart
    // would let a client probe which internal names exist.
    throw KilnError.of('webhook_url_forbidden', undefined, [{ path: ['webhookUrl'], message: 'must point to a public address this server may send to' }]);
  }
}
