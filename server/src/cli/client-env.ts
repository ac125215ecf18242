import { createKilnClient, type KilnClient } from '@kiln/client';
import { ConfigError } from '../config.js';

export const DEFAULT_KILN_URL = 'http://127.0.0.1:3100';

/** What the client commands read from the environment; they need no server config or database. */
export interface ClientEnv {
  url: string;
  apiKey: string | undefined;
  companyId: string | undefined;
}

/** KILN_URL (default http://127.0.0.1:3100), KILN_API_KEY, KILN_COMPANY_ID; read once, validated here. */
export function loadClientEnv(env: Record<string, string | undefined>): ClientEnv {
  const url = env.KILN_URL?.trim() || DEFAULT_KILN_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError(`Invalid Kiln configuration:\n  KILN_URL: expected an http(s) URL, got ${JSON.stringify(url)}`);
  }
  return { url, apiKey: env.KILN_API_KEY?.trim() || undefined, companyId: env.KILN_COMPANY_ID?.trim() || undefined };
}

export function clientFromEnv(env: ClientEnv): KilnClient {
  return createKilnClient({ baseUrl: env.url, apiKey: env.apiKey });
}

/**
 * The company a command acts for: --company, else KILN_COMPANY_ID, else the first company
 * GET /api/companies returns — the key's own company for a company key, the oldest one for an
 * admin key or in local_trusted mode (where that is the default company).
 */
export async function resolveCompany(client: KilnClient, env: ClientEnv, flag: string | undefined): Promise<string> {
  const explicit = flag?.trim() || env.companyId;
  if (explicit) return explicit;
  const [first] = await client.listCompanies();
  if (!first) throw new Error(`no company on ${env.url}; create one with \`kiln companies create <name>\` or set KILN_COMPANY_ID`);
  return first.id;
}
