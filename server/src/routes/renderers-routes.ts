import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RendererView } from '@kiln/shared';
import type { AppDeps } from '../app-deps.js';

export function describeRenderers(deps: Pick<AppDeps, 'renderers'>): RendererView[] {
  return [...deps.renderers.values()].map((r) => ({
    kind: r.kind,
    description: r.description,
    inputSchema: z.toJSONSchema(r.inputSchema, { io: 'input', unrepresentable: 'any' }),
    example: r.example,
  }));
}

export function renderersRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    // Schemas don't change while the process runs; build the answer once.
    const body = { items: describeRenderers(deps) };
    app.get('/api/renderers', { config: { public: true } }, async () => body);
  };
}
