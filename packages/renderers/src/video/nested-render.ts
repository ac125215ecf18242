import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { RenderError, type RenderContext, type Renderer } from '../contract.js';

/**
 * Validates `rawInput` against a sibling renderer's own schema and runs its preflight, so a scene
 * is held to exactly the rules the renderer itself would apply to a job. `where` prefixes the
 * error paths (`scenes.2.visual.card`).
 */
export async function parseNestedInput<Input>(renderer: Renderer<Input>, rawInput: unknown, where: (string | number)[]): Promise<Input> {
  const parsed = renderer.inputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw new RenderError('validation_failed', `${where.join('.')} is not a valid ${renderer.kind} input.`, {
      details: parsed.error.issues.map((issue) => ({ path: [...where, ...issue.path], message: issue.message })),
    });
  }
  try {
    await renderer.preflight?.(parsed.data);
  } catch (err) {
    throw prefixError(err, where);
  }
  return parsed.data;
}

/**
 * Runs a sibling renderer (image, chart) through the ordinary contract and returns the path of its
 * primary output, written into the parent job's scratch directory. Previews are discarded; assets
 * are read through the parent context, so the same company check applies; cancelling the parent
 * cancels the nested render.
 */
export async function renderNestedPrimary<Input>(
  renderer: Renderer<Input>,
  input: Input,
  parent: RenderContext,
  label: string,
  where: (string | number)[],
): Promise<string> {
  const dir = await mkdtemp(path.join(parent.tmpDir, `${label}-`));
  const tmpDir = path.join(dir, 'tmp');
  await mkdir(tmpDir);
  let primaryPath: string | undefined;
  const pending: Promise<unknown>[] = [];

  const ctx: RenderContext = {
    // A signal of its own that follows the parent's: resvg-js accepts any given AbortSignal only
    // once (a second renderAsync with it fails with InvalidArg), and a video renders many scenes.
    signal: AbortSignal.any([parent.signal]),
    tmpDir,
    // The nested render is a slice of the parent's "prepare" stage; the parent reports per scene.
    progress() {},
    log: (line) => parent.log(`[${label}] ${line}`),
    warn: (message) => parent.warn(`${label}: ${message}`),
    // A scene's picture is redrawn on a retry; only the video itself may checkpoint.
    checkpoint: async () => undefined,
    readAsset: (id) => parent.readAsset(id),
    output(options) {
      if (options.role !== 'primary' || primaryPath) {
        return new Writable({ write: (_chunk, _enc, done) => done() });
      }
      primaryPath = path.join(dir, `primary-${path.basename(options.filename)}`);
      const stream = createWriteStream(primaryPath);
      pending.push(finished(stream));
      return stream;
    },
  };

  try {
    await renderer.render(input, ctx);
    await Promise.all(pending);
  } catch (err) {
    throw prefixError(err, where);
  }
  if (!primaryPath) {
    throw new RenderError('render_failed', `${where.join('.')}: the ${renderer.kind} renderer produced no output.`);
  }
  return primaryPath;
}

function prefixError(err: unknown, where: (string | number)[]): unknown {
  if (!(err instanceof RenderError)) return err;
  return new RenderError(err.code, `${where.join('.')}: ${err.message}`, { ...err.options, details: rerootDetails(err.options.details, where) });
}

/**
 * A nested renderer reports paths from its own input (`['input', 'spec', 'data']`); inside a
 * video they belong under the scene (`['input', 'scenes', 2, 'visual', 'chart', 'spec', 'data']`).
 */
function rerootDetails(details: unknown, where: (string | number)[]): unknown {
  if (!Array.isArray(details)) return details;
  return details.map((d: unknown) => {
    const path = (d as { path?: unknown } | null)?.path;
    return Array.isArray(path) && path[0] === 'input' ? { ...(d as object), path: [...where, ...path.slice(1)] } : d;
  });
}
