import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { uploadsDir } from './s3-multipart-shim.js';

/** s3rver's fixed dummy account: it checks SigV4 signatures against this pair. */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const REGION = 'us-east-1';
const LAUNCHER = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));

export interface S3TestServer {
  /** `http://127.0.0.1:<port>`, path-style. */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where s3rver keeps buckets, objects and in-progress uploads. */
  directory: string;
  /** The server's process id. */
  pid: number;
  /**
   * Environment for a Kiln (in this process or a child `kiln` process) storing in this server:
   * the KILN_S3_* settings and the AWS_* variables the SDK's default credential chain reads first
   * (instance metadata off, so a misconfigured test never leaves loopback).
   */
  kilnEnv(extra?: Record<string, string>): Record<string, string>;
  /** A client of this server, for tests that look at the bucket behind Kiln's back. */
  client(): S3Client;
  /** In-progress multipart uploads, read from the server's own directory (not over HTTP). */
  inProgressUploads(bucket?: string): Promise<{ key: string; uploadId: string }[]>;
  /** Moves the start of one in-progress upload `ms` into the past (for sweeper tests). */
  backdateUpload(uploadId: string, ms: number, bucket?: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts s3rver — a real S3-protocol server: SigV4 header and query signatures, multipart
 * uploads, ranged GETs, ListObjectsV2, response-header overrides on presigned GETs — in a child
 * process on 127.0.0.1, port 0, over a fresh directory. A child process because s3rver's
 * ListObjectsV2 continuation tokens use DES, which Node ≥ 17 only offers with
 * `--openssl-legacy-provider` (a flag Kiln's own process should not carry); it also keeps the
 * server's work off the test's event loop. s3rver lacks ListMultipartUploads and
 * AbortMultipartUpload; `s3-multipart-shim.ts` adds both in front of it.
 *
 * @example
 *   const s3 = await startS3TestServer();
 *   const kiln = await startTestKiln(s3.kilnEnv({ KILN_S3_PRESIGN_SECONDS: '60' }));
 *   …
 *   await s3.stop();
 */
export async function startS3TestServer(options: { buckets?: string[] } = {}): Promise<S3TestServer> {
  const buckets = options.buckets ?? ['kiln-test'];
  const bucket = buckets[0]!;
  const directory = await mkdtemp(path.join(tmpdir(), 'kiln-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', LAUNCHER, directory, buckets.join(',')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        child.stdout!.off('data', onData);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch {
          reject(new Error(`s3rver printed ${JSON.stringify(line)}`));
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${stderr}`)));
  });
  child.stdout!.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
  const clients: S3Client[] = [];

  async function uploadIds(b: string): Promise<string[]> {
    return readdir(uploadsDir(directory, b)).catch(() => [] as string[]);
  }

  return {
    endpoint,
    bucket,
    region: REGION,
    credentials,
    directory,
    pid: child.pid!,
    kilnEnv: (extra = {}) => ({
      KILN_STORAGE_PROVIDER: 's3',
      KILN_S3_BUCKET: bucket,
      KILN_S3_REGION: REGION,
      KILN_S3_ENDPOINT: endpoint,
      KILN_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    }),
    client() {
      const c = new S3Client({
        endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.push(c);
      return c;
    },
    async inProgressUploads(b = bucket) {
      const out: { key: string; uploadId: string }[] = [];
      for (const uploadId of await uploadIds(b)) {
        const key = await readFile(path.join(uploadsDir(directory, b), uploadId, 'key'), 'utf8').catch(() => '(no key file)');
        out.push({ key, uploadId });
      }
      return out;
    },
    async backdateUpload(uploadId, ms, b = bucket) {
      const file = path.join(uploadsDir(directory, b), path.basename(uploadId), 'key');
      const s = await stat(file);
      const then = new Date(s.mtimeMs - ms);
      await utimes(file, then, then);
    },
    async stop() {
      for (const c of clients) c.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(killer);
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
