/**
 * The physical limit of Kiln's accept path, for bench/compare-queue.ts: a bare Fastify server
 * doing one `INSERT … RETURNING` per POST into the same PostgreSQL, nothing else. Prints its port.
 */
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
await pool.query(`CREATE TABLE IF NOT EXISTS bare_jobs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), kind text NOT NULL, input jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
const app = Fastify({ logger: false });
app.post('/jobs', async (request, reply) => {
  const body = request.body as { kind: string; input: unknown };
  const { rows } = await pool.query(`INSERT INTO bare_jobs (kind, input) VALUES ($1, $2) RETURNING id, created_at`, [body.kind, JSON.stringify(body.input)]);
  return reply.status(202).send({ jobId: rows[0].id, createdAt: rows[0].created_at });
});
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address() as { port: number };
console.log(`listening ${addr.port}`);
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
