/**
 * A read that is answered from memory for `ttlMs` after it was made: scrapes, dashboard polls and
 * queued-job reads ask for the same numbers many times a second, and they may be a second old.
 * Callers arriving while a read is in flight share it. A failed read is not kept.
 */
export function cachedRead<T>(read: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  const keyed = cachedReads<'', T>(() => read(), ttlMs, 1, now);
  return () => keyed('');
}

/** The same per key (a company id), keeping at most `maxKeys` answers (expired ones go first). */
export function cachedReads<K, T>(read: (key: K) => Promise<T>, ttlMs: number, maxKeys: number, now: () => number = Date.now): (key: K) => Promise<T> {
  const entries = new Map<K, { at: number; value: Promise<T> }>();
  return (key) => {
    const t = now();
    const hit = entries.get(key);
    if (hit && t - hit.at < ttlMs) return hit.value;
    if (entries.size >= maxKeys) {
      for (const [k, e] of entries) if (t - e.at >= ttlMs) entries.delete(k);
      // Still full of fresh answers: drop the oldest (Map keeps insertion order).
      if (entries.size >= maxKeys) entries.delete(entries.keys().next().value as K);
    }
    const entry = { at: t, value: read(key) };
    entries.delete(key);
    entries.set(key, entry);
    entry.value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry.value;
  };
}
