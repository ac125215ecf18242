import { RenderError } from '../contract.js';

/**
 * Keys through which a Vega-Lite spec asks for something outside itself: `url` (data.url, lookup
 * sources, image marks and the url channel) and `href` (link channel and mark property). A chart
 * renderer that honoured them would fetch from the network or read server files on a user's
 * behalf, so they are refused up front with their location. Data values (`values`, `datasets`)
 * are not searched: a column named "url" in the data is just data.
 */
const REMOTE_KEYS = new Set(['url', 'href']);
const DATA_KEYS = new Set(['values', 'datasets']);

export function findRemoteReferences(spec: unknown): { path: (string | number)[]; value: unknown }[] {
  const found: { path: (string | number)[]; value: unknown }[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (found.length >= 20) return;
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, [...path, i]));
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (REMOTE_KEYS.has(key)) found.push({ path: [...path, key], value });
        else if (!DATA_KEYS.has(key)) walk(value, [...path, key]);
      }
    }
  };
  walk(spec, []);
  return found;
}

export function assertOfflineSpec(spec: unknown): void {
  const refs = findRemoteReferences(spec);
  if (refs.length === 0) return;
  throw new RenderError(
    'validation_failed',
    'Chart specs may not load URLs or files: give data inline (data.values) or as dataAssetId; links and image URLs are not supported.',
    {
      details: refs.map((r) => ({
        path: ['input', 'spec', ...r.path],
        message: `${String(r.path.at(-1))} is not allowed (${JSON.stringify(r.value)?.slice(0, 100)})`,
      })),
    },
  );
}
