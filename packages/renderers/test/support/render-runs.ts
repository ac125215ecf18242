import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { Renderer } from '../../src/contract.js';
import { createFileRenderContext, type FileAsset } from '../../src/testing/file-render-context.js';

export type RenderRun = Awaited<ReturnType<typeof createFileRenderContext>>;
export type NewRun = (options?: Parameters<typeof createFileRenderContext>[0]) => Promise<RenderRun>;

/**
 * Everything a test writes to disk (render dirs, fixture files) is removed after the file.
 *
 * Call once at the top level of a test file: it registers that file's `afterAll` cleanup and
 * returns `newRun` (a file render context whose directory is removed then) and `fixtureFile`
 * (a fresh asset id and a temp path named after it, removed then too).
 */
export function useRenderRuns(): { newRun: NewRun; fixtureFile: (suffix: string) => { id: string; path: string } } {
  const created: string[] = [];
  afterAll(() => Promise.all(created.map((p) => rm(p, { recursive: true, force: true }))));
  return {
    async newRun(options = {}) {
      const run = await createFileRenderContext(options);
      created.push(run.dir);
      return run;
    },
    fixtureFile(suffix) {
      const id = randomUUID();
      const file = path.join(tmpdir(), `kiln-test-${id}${suffix}`);
      created.push(file);
      return { id, path: file };
    },
  };
}

/**
 * Renders `input` the way a job does: parse with the renderer's schema, preflight (unless
 * `preflight: false`), render into a fresh run, and wait until every output file is flushed.
 */
export async function renderWith<Input>(
  renderer: Renderer<Input>,
  input: unknown,
  newRun: NewRun,
  assets: FileAsset[] = [],
  { preflight = true }: { preflight?: boolean } = {},
) {
  const run = await newRun({ assets });
  const parsed = renderer.inputSchema.parse(input);
  if (preflight) await renderer.preflight!(parsed);
  const result = await renderer.render(parsed, run.ctx);
  await run.settled();
  return { run, result: result!, primary: run.outputFor('primary')!, preview: run.outputFor('preview')! };
}
