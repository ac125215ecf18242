import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { multipartUploadsShim } from './s3-multipart-shim.js';
import { fixS3rverSigV4 } from './s3rver-sigv4-fix.js';

/** The part of s3rver (a Koa app) used here; the package ships no types. */
interface S3rverInstance {
  middleware: unknown[];
  httpServer?: Server;
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/**
 * One s3rver on 127.0.0.1, port 0, over the directory given as argv[2] with the buckets in
 * argv[3] (comma-separated). Prints `{"port":…}` once listening; exits on SIGTERM/SIGINT, or when
 * stdin closes, so it never outlives the process that started it.
 */
const [directory, bucketList] = process.argv.slice(2);
if (!directory || !bucketList) throw new Error('usage: s3rver-process <directory> <bucket,…>');

const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverClass;
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: process.env.KILN_S3RVER_LOG !== '1',
  directory,
  vhostBuckets: false,
  configureBuckets: bucketList.split(',').map((name) => ({ name })),
});
// Koa composes `middleware` when it starts listening, so these go first in line.
server.middleware.unshift(fixS3rverSigV4(), multipartUploadsShim(directory));
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.httpServer?.closeAllConnections();
  void server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('close', stop).resume();
