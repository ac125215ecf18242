import { describe, expect, it } from 'vitest';
import { cachedRead, cachedReads } from '../src/db/cached-read.js';

describe('cachedRead', () => {
  it('answers from memory within the ttl, shares a read in flight, and keeps no failure', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const read = cachedRead(async () => {
      reads++;
      if (fail) throw new Error('database away');
      return reads;
    }, 1000, () => now);
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    now = 999;
    expect(await read()).toBe(1);
    now = 1000;
    expect(await read()).toBe(2);
    fail = true;
    now = 2000;
    await expect(read()).rejects.toThrow('database away');
    fail = false;
    expect(await read()).toBe(4); // the failure was not kept: read again at once
  });

  it('keeps one answer per key, at most maxKeys of them', async () => {
    let now = 0;
    const reads: string[] = [];
    const read = cachedReads(async (key: string) => {
      reads.push(key);
      return `${key}@${now}`;
    }, 1000, 2, () => now);
    expect(await read('a')).toBe('a@0');
    expect(await read('b')).toBe('b@0');
    expect(await read('a')).toBe('a@0');
    now = 10;
    expect(await read('c')).toBe('c@10'); // full of fresh answers: the oldest (a) goes
    expect(await read('b')).toBe('b@0');
    expect(await read('a')).toBe('a@10');
    expect(reads).toEqual(['a', 'b', 'c', 'a']);
  });
});
