import http from 'node:http';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { ERROR_CODES } from '@kiln/shared';

/**
 * The sending and judging half of the hostile-input test (server/test/hostile-input.test.ts):
 * one request as generated, sent byte for byte over loopback, and the rules every answer must
 * keep whatever was sent.
 */

/** What an answer must be, beyond the rules every answer keeps (see `judge`). */
export interface Expectation {
  /** Allowed statuses. */
  status?: number[];
  /** The error code a 4xx must carry. */
  code?: string;
  /** Refused at submit: 400 `validation_failed`, `details` an array whose entries have a `path` array. */
  refused?: true;
  /** …and a refused cap: some detail says `limit` and `actual` (numbers). */
  cap?: true;
  /** Anything but 2xx/3xx (the request is wrong, whatever else it is). */
  notAccepted?: true;
}

export interface HostileRequest {
  category: string;
  /** What was sent, for failure messages. */
  label: string;
  method: string;
  /** The request target as sent: no URL parsing, no normalisation. */
  path: string;
  /** Values must be latin1 (node:http sends header bytes as they are). */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Sent with Transfer-Encoding: chunked (no Content-Length) in pieces of this many bytes. */
  chunked?: number;
  /** The whole request as bytes on a fresh socket: for what node:http refuses to send. */
  raw?: Buffer;
  expect?: Expectation;
  /** A rule of this request's own: a sentence when the answer breaks it, else null. */
  check?: (a: Answer) => string | null;
}

export interface Answer {
  /** 0: the connection closed without an answer. */
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
  ms: number;
  /** The request could not be completed (timeout, reset): what happened. */
  failure?: string;
}

const ANSWER_TIMEOUT_MS = 30_000;

export function send(port: number, req: HostileRequest): Promise<Answer> {
  return req.raw ? sendRaw(port, req.raw) : sendHttp(port, req);
}

function sendHttp(port: number, req: HostileRequest): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = { ...(req.headers ?? {}) };
    if (req.chunked) headers['transfer-encoding'] = 'chunked';
    else if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    let settled = false;
    const done = (a: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...a, ms: performance.now() - started });
    };
    let r: http.ClientRequest;
    try {
      r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false, setHost: true });
    } catch (err) {
      // node:http refused to send it (an invalid header character): a generator mistake.
      return done({ status: 0, headers: {}, text: '', json: undefined, failure: `not sendable: ${(err as Error).message}` });
    }
    let answered: http.IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    const textSoFar = () => Buffer.concat(chunks).toString('utf8');
    r.on('response', (res) => {
      answered = res;
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.destroy();
        return done({ status: res.statusCode!, headers: res.headers, text: '', json: undefined });
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => done({ status: res.statusCode!, headers: res.headers, text: '', json: undefined, failure: `response: ${err.message}` }));
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, text: textSoFar(), json: parseJson(textSoFar()) }));
    });
    r.setTimeout(ANSWER_TIMEOUT_MS, () => r.destroy(new Error(`no answer in ${ANSWER_TIMEOUT_MS / 1000} s`)));
    // A server may answer early (413) and close while the body is still being written: the
    // answer counts, the write error does not.
    r.on('error', (err) =>
      answered
        ? done({ status: answered.statusCode!, headers: answered.headers, text: textSoFar(), json: parseJson(textSoFar()) })
        : done({ status: 0, headers: {}, text: '', json: undefined, failure: err.message }),
    );
    if (req.body !== undefined && req.chunked) {
      const bytes = Buffer.from(req.body);
      for (let i = 0; i < bytes.length; i += req.chunked) r.write(bytes.subarray(i, i + req.chunked));
      r.end();
    } else {
      r.end(req.body);
    }
  });
}

/** Writes `bytes` on a fresh socket and reads what comes back until the server closes or the answer is complete. */
function sendRaw(port: number, bytes: Buffer): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const finish = (failure?: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ ...parseRawAnswer(Buffer.concat(chunks)), ms: performance.now() - started, ...(failure ? { failure } : {}) });
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const a = parseRawAnswer(Buffer.concat(chunks));
      if (a.complete) finish();
    });
    socket.setTimeout(10_000, () => finish(chunks.length ? undefined : 'no answer in 10 s'));
    socket.on('error', () => finish());
    socket.on('close', () => finish());
  });
}

function parseRawAnswer(buf: Buffer): Omit<Answer, 'ms'> & { complete: boolean } {
  const s = buf.toString('latin1');
  const end = s.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(s);
  if (!m || end < 0) return { status: 0, headers: {}, text: '', json: undefined, complete: false };
  const headers: http.IncomingHttpHeaders = {};
  for (const line of s.slice(0, end).split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = buf.subarray(Buffer.byteLength(s.slice(0, end + 4), 'latin1'));
  const length = Number(headers['content-length'] ?? NaN);
  const text = body.toString('utf8');
  return { status: Number(m[1]), headers, text, json: parseJson(text), complete: Number.isFinite(length) && body.length >= length };
}

function parseJson(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every rule an answer breaks, as short sentences (empty: none). Whatever was sent: no 5xx, an
 * answer at all, and every 4xx `{ error: { code, message, details? } }` with a registered code
 * whose registered status is the one sent. `/mcp` speaks JSON-RPC: its own refusals are
 * JSON-RPC error objects, as the MCP specification has them.
 */
export function judge(req: HostileRequest, a: Answer): string[] {
  const problems: string[] = [];
  if (a.failure) problems.push(`no answer: ${a.failure}`);
  if (a.status >= 500) problems.push(`${a.status} ${a.text.slice(0, 200)}`);
  if (a.status >= 400 && a.status < 500) problems.push(...judgeErrorBody(req, a));
  const own = a.status !== 0 ? req.check?.(a) : null;
  if (own) problems.push(own);
  const e = req.expect;
  if (e && a.status !== 0) {
    if (e.status && !e.status.includes(a.status)) problems.push(`status ${a.status}, expected ${e.status.join('|')}: ${a.text.slice(0, 300)}`);
    if (e.code && a.json?.error?.code !== e.code) problems.push(`code ${a.json?.error?.code}, expected ${e.code}: ${a.text.slice(0, 300)}`);
    if (e.notAccepted && a.status < 400) problems.push(`accepted with ${a.status}: ${a.text.slice(0, 200)}`);
    if (e.refused || e.cap) {
      const details = a.json?.error?.details;
      if (a.status !== 400 || a.json?.error?.code !== 'validation_failed') problems.push(`not refused at submit: ${a.status} ${a.text.slice(0, 300)}`);
      else if (!Array.isArray(details) || details.length === 0 || !details.every((d: any) => Array.isArray(d?.path))) problems.push(`details without a path: ${a.text.slice(0, 300)}`);
      else if (e.cap && !details.some((d: any) => typeof d.limit === 'number' && typeof d.actual === 'number')) problems.push(`cap refusal without limit and actual: ${a.text.slice(0, 400)}`);
    }
  }
  return problems;
}

const ERROR_KEYS = new Set(['code', 'message', 'details']);

function judgeErrorBody(req: HostileRequest, a: Answer): string[] {
  // HEAD answers have no body to judge; the status is still held to the rules above.
  if (req.method === 'HEAD') return [];
  const type = String(a.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) return [`${a.status} not JSON (${type}): ${a.text.slice(0, 200)}`];
  const body = a.json;
  if (req.path.startsWith('/mcp') && body?.jsonrpc === '2.0' && typeof body.error?.code === 'number') return [];
  const err = body?.error;
  if (!body || typeof body !== 'object' || Object.keys(body).join() !== 'error' || !err || typeof err !== 'object') {
    return [`${a.status} body is not { error }: ${a.text.slice(0, 200)}`];
  }
  const problems: string[] = [];
  if (Object.keys(err).some((k) => !ERROR_KEYS.has(k))) problems.push(`error has keys ${Object.keys(err).join(',')}`);
  if (typeof err.message !== 'string' || err.message === '') problems.push('error.message is not a string');
  const entry = (ERROR_CODES as Record<string, { status: number }>)[err.code];
  if (!entry) problems.push(`code ${JSON.stringify(err.code)} is not in the registry`);
  else if (entry.status !== a.status) problems.push(`code ${err.code} is registered as ${entry.status}, sent with ${a.status}`);
  return problems;
}

/** Resident memory of this process (the test Kiln runs in it) in MiB, from /proc/self/status. */
export function residentMiB(field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** This process's child processes (render and validation processes, Chromium drivers…): pid → command line. */
export function childProcesses(): Map<number, string> {
  const children = new Map<number, string>();
  for (const tid of readdirSync('/proc/self/task')) {
    let list = '';
    try {
      list = readFileSync(`/proc/self/task/${tid}/children`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const pid of list.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        children.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
      } catch {
        /* gone */
      }
    }
  }
  return children;
}

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A small deterministic generator (mulberry32), so every run sends the same requests. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}
export type Seeded = ReturnType<typeof seeded>;
