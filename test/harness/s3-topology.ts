import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import path from 'node:path';
import { filesUnder } from '../../server/test/support/files-under.js';
import { startS3TestServer, type S3TestServer } from '../../server/test/support/s3-test-server.js';
import { KilnCluster, type AddProcessOptions } from './kiln-cluster.js';
import { harnessQuery } from './postgres-server.js';
import type { TrackedProc } from './process-tracker.js';

export interface S3TopologyOptions {
  /** Short label for the run directory. */
  label: string;
  /** `kiln serve --no-worker` processes, named api-1…api-N. */
  apis?: number;
  /** `kiln worker` processes, named worker-1…worker-N. */
  workers?: number;
  /** Env common to every Kiln process (over the cluster's defaults and the S3 settings). */
  env?: Record<string, string>;
  /** KILN_S3_PREFIX of every process (default `kiln/`). */
  prefix?: string;
}

export interface BucketObject {
  key: string;
  size: number;
}

/** The bucket compared with the `assets` table (rows of provider `s3`). */
export interface BucketFacts {
  objects: BucketObject[];
  /** Objects (under the prefix) with no asset row. */
  orphans: string[];
  /** Asset rows whose object is missing. */
  missing: string[];
  /** Asset rows whose object has another size than the row says. */
  wrongSize: { key: string; row: number; object: number }[];
  /** Multipart uploads begun and neither completed nor aborted. */
  inProgressUploads: { key: string; uploadId: string }[];
  /** Files under any process's `<data dir>/storage` (with S3 there must be none). */
  localStorageFiles: string[];
}

/**
 * Kiln scaled out as on separate machines: N × `kiln serve --no-worker` and M × `kiln worker`
 * on one PostgreSQL (the harness's own) and one S3 bucket (s3rver on loopback, in its own
 * process), each process with a data directory of its own, so no byte can pass between them
 * through a shared disk — only through the database and the bucket.
 *
 * @example
 *   const t = await S3Topology.start({ label: 'topo', apis: 2, workers: 2 });
 *   try { … t.cluster.companyBase('api-2') … await t.bucketFacts() … }
 *   finally { await t.cleanup(); }
 */
export class S3Topology {
  private constructor(
    readonly cluster: KilnCluster,
    readonly s3: S3TestServer,
    readonly prefix: string,
    readonly apiNames: string[],
    readonly workerNames: string[],
  ) {}

  static async start(o: S3TopologyOptions): Promise<S3Topology> {
    const prefix = o.prefix ?? 'kiln/';
    const s3 = await startS3TestServer();
    let cluster: KilnCluster | null = null;
    try {
      cluster = await KilnCluster.create({
        label: o.label,
        dataDirPerProcess: true,
        env: { KILN_WORKER_CONCURRENCY: '2', ...s3.kilnEnv({ KILN_S3_PREFIX: prefix }), ...o.env },
      });
      const apiNames = Array.from({ length: o.apis ?? 2 }, (_, i) => `api-${i + 1}`);
      const workerNames = Array.from({ length: o.workers ?? 2 }, (_, i) => `worker-${i + 1}`);
      const list: AddProcessOptions[] = [
        ...apiNames.map((name) => ({ name, role: 'api' as const })),
        ...workerNames.map((name) => ({ name, role: 'worker' as const })),
      ];
      await cluster.start(list);
      return new S3Topology(cluster, s3, prefix, apiNames, workerNames);
    } catch (err) {
      await cluster?.cleanup({ keep: true });
      await s3.stop();
      throw err;
    }
  }

  /** Every object in the bucket under the prefix (key without the prefix). */
  async listObjects(): Promise<BucketObject[]> {
    const client = this.s3.client();
    const out: BucketObject[] = [];
    let ContinuationToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await client.send(new ListObjectsV2Command({ Bucket: this.s3.bucket, Prefix: this.prefix, ContinuationToken }));
      for (const o of res.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? -1 });
      if (!res.IsTruncated || !res.NextContinuationToken) break;
      ContinuationToken = res.NextContinuationToken;
    }
    return out;
  }

  async bucketFacts(): Promise<BucketFacts> {
    const objects = await this.listObjects();
    const rows = await harnessQuery<{ key: string; size: string }>(
      this.cluster.databaseUrl,
      `SELECT object_key AS key, byte_size::text AS size FROM assets WHERE provider = 's3'`,
    );
    const byKey = new Map(objects.map((o) => [o.key, o.size]));
    const rowKeys = new Set(rows.map((r) => r.key));
    const localStorageFiles: string[] = [];
    for (const name of [...this.apiNames, ...this.workerNames]) {
      localStorageFiles.push(...(await filesUnder(path.join(this.cluster.dataDirOf(name), 'storage'))));
    }
    return {
      objects,
      orphans: objects.filter((o) => !rowKeys.has(o.key)).map((o) => o.key),
      missing: rows.filter((r) => !byKey.has(r.key)).map((r) => r.key),
      wrongSize: rows
        .filter((r) => byKey.has(r.key) && byKey.get(r.key) !== Number(r.size))
        .map((r) => ({ key: r.key, row: Number(r.size), object: byKey.get(r.key)! })),
      inProgressUploads: await this.s3.inProgressUploads(),
      localStorageFiles,
    };
  }

  /**
   * Connections Kiln holds right now, by application_name: `kiln` (API request pools, and the
   * pool each process uses while it starts), `kiln-events` (each API's LISTEN connection),
   * `kiln-worker` (worker pools and each worker's dedicated connection).
   */
  async connectionsByRole(): Promise<Record<string, number>> {
    const rows = await harnessQuery<{ app: string; n: number }>(
      this.cluster.databaseUrl,
      `SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name LIKE 'kiln%' GROUP BY 1 ORDER BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.app, r.n]));
  }

  /** Stops every Kiln process, PostgreSQL and the S3 server (see KilnCluster.cleanup). */
  async cleanup(options: { keep?: boolean; graceMs?: number } = {}): Promise<{ stragglers: TrackedProc[]; postgresLeft: boolean }> {
    try {
      return await this.cluster.cleanup(options);
    } finally {
      await this.s3.stop();
    }
  }
}
