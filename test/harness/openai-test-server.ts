import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

const run = promisify(execFile);

/**
 * A small server speaking the OpenAI-compatible APIs Kiln's provider kinds call — Images
 * (`POST /images/generations`, b64_json or url answers), Audio (`POST /audio/speech`, streamed) and
 * Videos (`POST /videos`, `GET /videos/{id}` with progress, `GET /videos/{id}/content`, `DELETE`) —
 * on 127.0.0.1 only, answering with real PNG/JPEG/WebP (sharp), WAV/MP3/Opus/AAC/FLAC and MP4
 * (ffmpeg) bytes it makes itself. Any path prefix before `/v1` is accepted (so two providers can
 * point at one server), and recorded. Tests script failures per route with `plan()`: 429 with
 * Retry-After, 500, malformed JSON, content-policy 400, unknown model 404, 401 echoing the key it
 * got, latency. It counts creations and records every request.
 */
export interface RecordedRequest {
  method: string;
  /** The path after the prefix: `/v1/videos/video_1`. */
  path: string;
  /** What came before `/v1` (`` or `/backup`). */
  prefix: string;
  /** The request's headers, lowercased. */
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, or the multipart fields (files as `{ filename, type, size }`). */
  body?: unknown;
}

export type PlannedAnswer =
  | { status: number; json?: unknown; headers?: Record<string, string> }
  | { malformed: true }
  /** Wait this long, then answer normally. */
  | { delayMs: number }
  /** 401 whose message repeats the Authorization header it got (as careless servers do). */
  | { echoKey: true };

export interface VideoState {
  id: string;
  polls: number;
  status: 'queued' | 'in_progress' | 'completed' | 'failed' | 'deleted';
  size: string;
  seconds: string;
  model: string;
  failWith?: { code: string; message: string };
  deleted: boolean;
}

export interface OpenAiTestServerOptions {
  /** The key requests must carry as a Bearer token (none: any or no key). */
  apiKey?: string;
  /** Polls (`GET /videos/{id}`) a video takes to complete. */
  videoPolls?: number;
  /** Latency before every answer. */
  latencyMs?: number;
  /** `b64_json` (default) or `url` answers from the Images API; `urlBase` puts the URLs elsewhere. */
  imageAnswer?: 'b64_json' | 'url';
  urlBase?: string;
}

export const answers = {
  rateLimited: (seconds: number): PlannedAnswer => ({
    status: 429,
    headers: { 'retry-after': String(seconds) },
    json: { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } },
  }),
  serverError: (): PlannedAnswer => ({ status: 500, json: { error: { message: 'The server had an error while processing your request.', type: 'server_error' } } }),
  malformed: (): PlannedAnswer => ({ malformed: true }),
  contentPolicy: (): PlannedAnswer => ({
    status: 400,
    json: { error: { message: 'Your request was rejected as a result of our safety system.', type: 'invalid_request_error', code: 'content_policy_violation' } },
  }),
  unknownModel: (model: string): PlannedAnswer => ({
    status: 404,
    json: { error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' } },
  }),
  forbidden: (): PlannedAnswer => ({ status: 403, json: { error: { message: 'Project does not have access to this model.', type: 'invalid_request_error' } } }),
  echoKey: (): PlannedAnswer => ({ echoKey: true }),
  slow: (delayMs: number): PlannedAnswer => ({ delayMs }),
};

export async function startOpenAiTestServer(options: OpenAiTestServerOptions = {}) {
  const requests: RecordedRequest[] = [];
  const creations = { images: 0, speech: 0, videos: 0 };
  const planned = new Map<string, PlannedAnswer[]>();
  const videos = new Map<string, VideoState>();
  const files = new Map<string, { bytes: Buffer; type: string }>();
  const media = new Map<string, Promise<Buffer>>();
  const scratch = await mkdtemp(path.join(tmpdir(), 'kiln-openai-test-'));
  let nextId = 1;
  const settings: {
    videoPolls: number;
    latencyMs: number;
    imageAnswer: 'b64_json' | 'url';
    urlBase: string | undefined;
    /** The next video created fails on its side once its polls are done, with this error. */
    nextVideoFailure: { code: string; message: string } | undefined;
  } = { videoPolls: options.videoPolls ?? 20, latencyMs: options.latencyMs ?? 0, imageAnswer: options.imageAnswer ?? 'b64_json', urlBase: options.urlBase, nextVideoFailure: undefined };

  /** Real media, made once per format and size. */
  const once = (key: string, make: () => Promise<Buffer>) => {
    if (!media.has(key)) media.set(key, make());
    return media.get(key)!;
  };
  const image = (format: string, w: number, h: number) =>
    once(`image:${format}:${w}x${h}`, () => {
      const img = sharp({ create: { width: w, height: h, channels: 3, background: { r: 30, g: 120, b: 200 } } });
      return (format === 'jpeg' ? img.jpeg() : format === 'webp' ? img.webp() : img.png()).toBuffer();
    });
  const ffmpeg = async (name: string, args: string[]) => {
    const file = path.join(scratch, name);
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, file]);
    return readFile(file);
  };
  const AUDIO_ARGS: Record<string, string[]> = {
    wav: ['-c:a', 'pcm_s16le', '-f', 'wav'],
    mp3: ['-c:a', 'libmp3lame', '-f', 'mp3'],
    opus: ['-c:a', 'libopus', '-f', 'ogg'],
    aac: ['-c:a', 'aac', '-f', 'adts'],
    flac: ['-c:a', 'flac', '-f', 'flac'],
  };
  const audio = (format: string) =>
    once(`audio:${format}`, () => ffmpeg(`speech.${format}`, ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1:sample_rate=24000', ...(AUDIO_ARGS[format] ?? AUDIO_ARGS.wav!)]));
  const video = (w: number, h: number, seconds: number) =>
    once(`video:${w}x${h}:${seconds}`, () =>
      ffmpeg(`video-${w}x${h}-${seconds}.mp4`, [
        '-f', 'lavfi', '-i', `testsrc=size=${w}x${h}:rate=10:duration=${seconds}`,
        '-f', 'lavfi', '-i', `sine=frequency=330:duration=${seconds}`,
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', '-f', 'mp4',
      ]),
    );

  const sizeOf = (size: unknown, fallback: [number, number]): [number, number] => {
    const m = typeof size === 'string' ? /^(\d+)x(\d+)$/.exec(size) : null;
    if (!m) return fallback;
    // Even sides (H.264 wants them), at most 1280: the bytes are real, not big.
    const even = (n: number) => Math.max(2, Math.min(1280, n - (n % 2)));
    return [even(Number(m[1])), even(Number(m[2]))];
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `test server: ${String(err)}`, type: 'server_error' } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const at = url.pathname.indexOf('/v1/');
    const prefix = at > 0 ? url.pathname.slice(0, at) : '';
    const route = at >= 0 ? url.pathname.slice(at) : url.pathname;
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    let body: any;
    if (contentType.startsWith('application/json')) body = JSON.parse(raw.toString('utf8') || 'null');
    else if (contentType.startsWith('multipart/form-data')) body = await formFields(raw, contentType);
    requests.push({ method: req.method ?? 'GET', path: route, prefix, headers: { ...req.headers }, body });

    if (route.startsWith('/files/')) {
      const file = files.get(route.slice('/files/'.length));
      if (!file) return sendJson(res, 404, { error: { message: 'no such file' } });
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.bytes.length });
      return res.end(file.bytes);
    }

    const key = `${req.method} ${route.replace(/\/videos\/[^/]+/, '/videos/{id}')}`;
    let plan = planned.get(key)?.shift();
    const latency = plan && 'delayMs' in plan ? plan.delayMs : settings.latencyMs;
    if (plan && 'delayMs' in plan) plan = undefined;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    if (res.destroyed || req.socket.destroyed) return;

    if (plan && 'echoKey' in plan) {
      return sendJson(res, 401, {
        error: { message: `Incorrect API key provided: ${String(req.headers.authorization ?? '').replace(/^Bearer /, '')}.`, type: 'invalid_request_error', code: 'invalid_api_key' },
      });
    }
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    if (plan && 'status' in plan) return sendJson(res, plan.status, plan.json ?? {}, plan.headers);
    const id = `req_${nextId++}`;
    if (plan && 'malformed' in plan) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': id });
      return res.end('{"data": [{"b64_json": "iVBORw0');
    }

    if (req.method === 'POST' && route === '/v1/images/generations') {
      const [w, h] = sizeOf(body?.size, [64, 64]);
      const format = body?.output_format ?? 'png';
      const n = Number(body?.n ?? 1);
      const bytes = await image(format, w, h);
      creations.images++;
      const data = Array.from({ length: n }, () => {
        if (settings.imageAnswer === 'b64_json') return { b64_json: bytes.toString('base64'), revised_prompt: `${body?.prompt} (revised)` };
        const fileId = `img_${nextId++}.${format}`;
        files.set(fileId, { bytes, type: `image/${format}` });
        return { url: `${settings.urlBase ?? `http://127.0.0.1:${port()}`}/files/${fileId}` };
      });
      return sendJson(res, 200, { created: Math.floor(Date.now() / 1000), data, usage: { total_tokens: 100 * n, input_tokens: 10, output_tokens: 90 * n, input_tokens_details: { text_tokens: 10 } } }, { 'x-request-id': id });
    }

    if (req.method === 'POST' && route === '/v1/audio/speech') {
      const bytes = await audio(body?.response_format ?? 'mp3');
      creations.speech++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked', 'x-request-id': id });
      // Streamed, as the real endpoint does: a few chunks with pauses.
      for (let i = 0; i < bytes.length; i += 16 * 1024) {
        res.write(bytes.subarray(i, i + 16 * 1024));
        await new Promise((r) => setTimeout(r, 5));
      }
      return res.end();
    }

    if (req.method === 'POST' && route === '/v1/videos') {
      const v: VideoState = {
        id: `video_${nextId++}`,
        polls: 0,
        status: 'queued',
        size: typeof body?.size === 'string' ? body.size : '320x180',
        seconds: String(body?.seconds ?? '4'),
        model: typeof body?.model === 'string' ? body.model : 'sora-test',
        deleted: false,
        failWith: settings.nextVideoFailure,
      };
      settings.nextVideoFailure = undefined;
      videos.set(v.id, v);
      creations.videos++;
      return sendJson(res, 200, videoObject(v), { 'x-request-id': id });
    }

    const videoMatch = /^\/v1\/videos\/([^/]+)(\/content)?$/.exec(route);
    if (videoMatch) {
      const v = videos.get(decodeURIComponent(videoMatch[1]!));
      if (!v || v.deleted) return sendJson(res, 404, { error: { message: 'Video not found.', type: 'invalid_request_error' } });
      if (req.method === 'DELETE') {
        v.deleted = true;
        v.status = 'deleted';
        return sendJson(res, 200, { id: v.id, object: 'video.deleted', deleted: true });
      }
      if (videoMatch[2]) {
        if (v.status !== 'completed') return sendJson(res, 400, { error: { message: 'Video is not ready yet.', type: 'invalid_request_error' } });
        const [w, h] = sizeOf(v.size, [320, 180]);
        const bytes = await video(w, h, Math.min(4, Number(v.seconds) || 1));
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes.length });
        return res.end(bytes);
      }
      v.polls++;
      if (v.status !== 'failed') v.status = v.polls >= settings.videoPolls ? (v.failWith ? 'failed' : 'completed') : 'in_progress';
      return sendJson(res, 200, videoObject(v), { 'x-request-id': id });
    }
    return sendJson(res, 404, { error: { message: `test server: no route ${req.method} ${route}` } });
  }

  function videoObject(v: VideoState) {
    return {
      id: v.id,
      object: 'video',
      model: v.model,
      status: v.status,
      progress: Math.min(100, Math.round((v.polls / settings.videoPolls) * 100)),
      created_at: Math.floor(Date.now() / 1000),
      size: v.size,
      seconds: v.seconds,
      error: v.status === 'failed' ? v.failWith : null,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = () => (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port()}`;

  return {
    url,
    /** The base URL a provider is configured with (`…/v1`); `prefix` for a second provider on the same server. */
    baseUrl: (prefix = '') => `${url}${prefix}/v1`,
    port: port(),
    requests,
    creations,
    videos,
    settings,
    /** Queues answers for the next requests to `"METHOD /v1/path"` (`/videos/{id}` for any video). */
    plan(route: string, ...next: PlannedAnswer[]) {
      planned.set(route, [...(planned.get(route) ?? []), ...next]);
    },
    /** Requests to one route (method and path after the prefix, `{id}` for any video id). */
    requestsTo(route: string) {
      return requests.filter((r) => `${r.method} ${r.path.replace(/\/videos\/[^/]+/, '/videos/{id}')}` === route);
    },
    /** Forgets recorded requests and plans (creations keep counting). */
    reset() {
      requests.length = 0;
      planned.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export type OpenAiTestServer = Awaited<ReturnType<typeof startOpenAiTestServer>>;

function sendJson(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Multipart fields through the platform's own parser; files are summarised. */
async function formFields(raw: Buffer, contentType: string): Promise<Record<string, unknown>> {
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  const out: Record<string, unknown> = {};
  form.forEach((value, name) => {
    out[name] = typeof value === 'string' ? value : { filename: (value as File).name, type: value.type, size: value.size };
  });
  return out;
}
