import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';
import { PROVIDER_NAME_PATTERN } from '@kiln/shared';

/** The kinds a provider can serve. */
export const PROVIDER_KINDS = ['ai-image', 'ai-speech', 'ai-video'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const DEFAULT_PROVIDER_MAX_CONCURRENT = 4;
export const DEFAULT_PROVIDER_POLL_INTERVAL_MS = 5000;

/**
 * An API key read from the environment at start-up. It prints as `[redacted]` however it is
 * logged, serialised or inspected (a Config dumped into a log line, an error's cause), so the only
 * way to the value is `reveal()`, called where the Authorization header is made.
 */
export class ApiKey {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON() {
    return '[redacted]';
  }
  toString() {
    return '[redacted]';
  }
  [inspect.custom]() {
    return '[redacted]';
  }
}

const providerSchema = z
  .object({
    name: z.string().regex(PROVIDER_NAME_PATTERN, 'letters, digits, - and _ (at most 40)'),
    type: z.literal('openai'),
    baseUrl: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'an http or https URL')
      .refine((u) => !new URL(u).search && !new URL(u).hash, 'no query or fragment: paths are appended to it')
      .refine((u) => !new URL(u).username, 'no credentials in the URL: put the key in the variable apiKeyEnv names'),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable').optional(),
    models: z
      .object({ 'ai-image': z.string().min(1).max(200).optional(), 'ai-speech': z.string().min(1).max(200).optional(), 'ai-video': z.string().min(1).max(200).optional() })
      .strict()
      .optional(),
    maxConcurrent: z.number().int().min(1).max(256).default(DEFAULT_PROVIDER_MAX_CONCURRENT),
    pollIntervalMs: z.number().int().min(1).max(600_000).default(DEFAULT_PROVIDER_POLL_INTERVAL_MS),
  })
  .strict();

/** One configured model provider, resolved: its key read, its kinds known. */
export interface ProviderConfig {
  name: string;
  type: 'openai';
  /** With its version prefix (`https://api.openai.com/v1`), no trailing slash. */
  baseUrl: string;
  apiKeyEnv: string | null;
  /** null: the API is called without Authorization (a local server that needs none). */
  apiKey: ApiKey | null;
  /** Model per kind; a kind without one is called without `model` (the provider's default). */
  models: Partial<Record<ProviderKind, string>>;
  /** `models` given: the kinds it lists; absent: all three. */
  kinds: ProviderKind[];
  maxConcurrent: number;
  pollIntervalMs: number;
}

export class ProviderConfigError extends Error {}

/**
 * Reads KILN_PROVIDERS — inline JSON (an array) or the path of a JSON file holding one — and the
 * API keys the providers name, from `env`. Every problem is a sentence naming what to fix; a key
 * variable that is missing or empty is named (its value never is).
 *
 * @example
 * parseProvidersSetting('[{"name":"openai","type":"openai","baseUrl":"https://api.openai.com/v1","apiKeyEnv":"OPENAI_API_KEY"}]', process.env)
 */
export function parseProvidersSetting(setting: string | undefined, env: Record<string, string | undefined>): ProviderConfig[] {
  if (setting === undefined || setting.trim() === '') return [];
  const text = setting.trim();
  let json: string;
  if (text.startsWith('[') || text.startsWith('{')) {
    json = text;
  } else {
    try {
      json = readFileSync(text, 'utf8');
    } catch (err) {
      throw new ProviderConfigError(`KILN_PROVIDERS: neither inline JSON nor a readable file (${(err as NodeJS.ErrnoException).code ?? String(err)}: ${text})`);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ProviderConfigError(`KILN_PROVIDERS: not valid JSON (${(err as Error).message})`);
  }
  const parsed = z.array(providerSchema).max(32).safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `KILN_PROVIDERS${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
    throw new ProviderConfigError(lines.join('\n  '));
  }
  const seen = new Set<string>();
  return parsed.data.map((p, i) => {
    if (seen.has(p.name)) throw new ProviderConfigError(`KILN_PROVIDERS[${i}].name: "${p.name}" is used twice`);
    seen.add(p.name);
    let apiKey: ApiKey | null = null;
    if (p.apiKeyEnv) {
      const value = env[p.apiKeyEnv];
      if (value === undefined || value.trim() === '') {
        throw new ProviderConfigError(`KILN_PROVIDERS[${i}] (${p.name}): the environment variable ${p.apiKeyEnv} (apiKeyEnv) is not set`);
      }
      apiKey = new ApiKey(value.trim());
    }
    const models = p.models ?? {};
    return {
      name: p.name,
      type: p.type,
      baseUrl: p.baseUrl.replace(/\/+$/, ''),
      apiKeyEnv: p.apiKeyEnv ?? null,
      apiKey,
      models,
      kinds: p.models ? PROVIDER_KINDS.filter((k) => models[k] !== undefined) : [...PROVIDER_KINDS],
      maxConcurrent: p.maxConcurrent,
      pollIntervalMs: p.pollIntervalMs,
    };
  });
}
