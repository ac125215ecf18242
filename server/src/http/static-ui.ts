import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { markRoutesPublic } from './auth.js';

/**
 * The dashboard's Content-Security-Policy: its own scripts and styles only, media from this
 * origin (or blob: URLs made from it in API-key mode), and it may not be framed. Assets it
 * previews in frames are served with their own sandboxing CSP (assets-routes.ts).
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "frame-src 'self' blob:",
  "connect-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where `npm run build -w @kiln/ui` writes the dashboard. */
export const DEFAULT_UI_DIST = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

/**
 * Serves the dashboard's static build at `/`. The UI routes with the URL hash (`#/jobs/…`), so
 * only `/` and the files Vite wrote are needed here. Everything under /api stays the API's:
 * an unknown /api path is answered by the JSON not-found handler, never looked up on disk.
 * The files are public in every deployment mode; the UI itself asks for an API key when the
 * API needs one.
 *
 * Registered encapsulated (not through fastify-plugin), so `reply.sendFile` stays private to
 * this scope and another plugin that uses @fastify/static (API docs) cannot collide with it.
 */
export function staticUiRoutes(options: { root?: string } = {}) {
  const root = options.root ?? DEFAULT_UI_DIST;
  return async (app: FastifyInstance) => {
    markRoutesPublic(app);
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      index: false, // `/` is the route below, so a missing build gets an explanation instead of a 404
      wildcard: true, // files are looked up per request: a rebuild needs no restart
      suppressWarning: true,
      cacheControl: false,
      allowedPath: (pathname) => !pathname.startsWith('/api/') && pathname !== '/api',
      setHeaders(reply, filePath) {
        // Vite puts a content hash in every file name under assets/; index.html names the current ones.
        const hashed = filePath.includes(`${path.sep}assets${path.sep}`);
        reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
        reply.header('content-security-policy', DASHBOARD_CSP);
        reply.header('x-content-type-options', 'nosniff');
      },
    });

    app.get('/', (_request, reply) => {
      if (!existsSync(path.join(root, 'index.html'))) {
        return reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .send('The Kiln dashboard has not been built. Run `npm run build -w @kiln/ui` (`npm start` does it for you); the API is at /api.\n');
      }
      return reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .sendFile('index.html');
    });
  };
}
