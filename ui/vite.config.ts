import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev -w @kiln/ui` serves the dashboard with hot reload and forwards /api to a running
// Kiln (KILN_URL, default http://127.0.0.1:3100). The production build is static files in dist/,
// which the server itself serves at `/` (server/src/http/static-ui.ts).
export default defineConfig(({ command }) => {
  // dist/ is what every Kiln serves, so it is always a production build. Vite would otherwise
  // take an inherited NODE_ENV (vitest sets `test`, which builds React's development bundle:
  // StrictMode then mounts every effect twice, so pages list twice on load).
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
    plugins: [react()],
    // Relative asset URLs, so the build also works behind a reverse proxy under a path prefix.
    base: './',
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      sourcemap: true,
      rolldownOptions: {
        // @kiln/shared (which @kiln/client imports a few constants from) defines its zod schemas
        // at module level; nothing here uses them, and declaring its modules free of side
        // effects lets them, and zod with them, drop out of the bundle.
        treeshake: { moduleSideEffects: (id: string) => !/[\\/]packages[\\/]shared[\\/]/.test(id) },
        // The client's Node-only paths (uploading or saving a file by path) import node:* lazily;
        // a browser never reaches them, so they are left as they are rather than stubbed.
        external: [/^node:/],
      },
    },
    server: {
      proxy: { '/api': { target: process.env.KILN_URL ?? 'http://127.0.0.1:3100', changeOrigin: true } },
    },
  };
});
