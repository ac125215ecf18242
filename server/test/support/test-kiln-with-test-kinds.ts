import { startTestKiln } from './test-kiln.js';

export const TEST_RENDERERS = new URL('./test-renderers.ts', import.meta.url).href;

/** A test Kiln that also knows the test-only kinds (test-slow, test-fail, test-bytes, test-spin, test-copy). */
export const startKilnWithTestKinds = (env: Record<string, string> = {}) =>
  startTestKiln(env, { rendererModules: [TEST_RENDERERS] });
