import { KilnCluster } from '../harness/kiln-cluster.js';
import { harnessQuery } from '../harness/postgres-server.js';

/**
 * Two `kiln serve --no-worker` and two `kiln worker` on one PostgreSQL and one data directory:
 * what a worker stores, both APIs serve. Each worker runs two jobs at once, so the default
 * company (4 at a time) keeps both busy.
 */
export async function startTwoApisTwoWorkers(label: string): Promise<KilnCluster> {
  const cluster = await KilnCluster.create({ label, env: { KILN_WORKER_CONCURRENCY: '2' } });
  try {
    await cluster.start([
      { name: 'api-1', role: 'api' },
      { name: 'api-2', role: 'api' },
      { name: 'worker-1', role: 'worker' },
      { name: 'worker-2', role: 'worker' },
    ]);
  } catch (err) {
    await cluster.cleanup({ keep: true });
    throw err;
  }
  return cluster;
}

export async function countRunning(cluster: KilnCluster, ids?: string[]): Promise<number> {
  const rows = await harnessQuery<{ n: number }>(
    cluster.databaseUrl,
    `SELECT count(*)::int AS n FROM content_jobs WHERE status = 'running' ${ids ? 'AND id = ANY($1::uuid[])' : ''}`,
    ids ? [ids] : [],
  );
  return rows[0]!.n;
}
