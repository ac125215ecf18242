import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MAX_SVG_CHARS, type VideoSceneVisual } from '@kiln/shared';
import { RenderError, type RenderContext, type Renderer } from '../contract.js';
import { saveStreamToFile } from '../media/stream-file-to-output.js';
import { parseNestedInput, renderNestedPrimary } from './nested-render.js';

/**
 * The sibling renderers a video draws its scenes with. Passed in rather than imported so the video
 * renderer runs with whatever set the registry was built from (and a kind that is absent is
 * refused at submission, not half-way through a render).
 */
export interface SceneRenderers {
  image: Renderer<any>;
  chart?: Renderer<any>;
}

const MAX_SVG_ASSET_BYTES = MAX_SVG_CHARS;

/**
 * The raw input a scene's visual becomes for the renderer that draws it (undefined for assets).
 * assetRefs, preflight and render all start from this one mapping, so the asset ids checked for
 * the company are exactly the ones the nested render will read.
 */
export function nestedSceneRequest(
  visual: VideoSceneVisual,
  frame: { width: number; height: number },
  renderers: SceneRenderers,
): { renderer: Renderer<any> | undefined; raw: Record<string, unknown> } | undefined {
  switch (visual.type) {
    case 'asset':
      return undefined;
    case 'svg':
      return { renderer: renderers.image, raw: { mode: 'svg', svg: visual.svg, format: 'png', width: frame.width } };
    case 'card': {
      // A card without its own size is laid out for the video's frame, so nothing is scaled.
      const size = visual.card.size ?? (frame.width >= 64 && frame.height >= 64 ? { width: frame.width, height: frame.height } : undefined);
      return { renderer: renderers.image, raw: { ...visual.card, mode: 'card', format: 'png', ...(size ? { size } : {}) } };
    }
    case 'chart':
      return { renderer: renderers.chart, raw: chartForFrame(visual.chart, frame) };
  }
}

/** Validates a scene's nested input with the drawing renderer's own schema and preflight. */
export async function nestedSceneInput(
  visual: VideoSceneVisual,
  frame: { width: number; height: number },
  renderers: SceneRenderers,
  where: (string | number)[],
): Promise<{ renderer: Renderer<any>; input: unknown } | undefined> {
  const request = nestedSceneRequest(visual, frame, renderers);
  if (!request) return undefined;
  const at = [...where, visual.type];
  if (!request.renderer) {
    throw new RenderError('validation_failed', `${visual.type} scenes are not available: this server has no ${visual.type} renderer.`, {
      details: [{ path: at, message: `no ${visual.type} renderer` }],
    });
  }
  // An SVG scene is the image renderer's input `{svg, …}` made from `visual`, so its errors
  // (`input.svg…`, re-rooted by parseNestedInput) land on the scene's `visual.svg…`.
  return { renderer: request.renderer, input: await parseNestedInput(request.renderer, request.raw, visual.type === 'svg' ? where : at) };
}

/**
 * A chart input drawn as PNG and, when its Vega-Lite spec leaves the size open, sized for the
 * frame: Vega-Lite's width/height are the plot area in SVG units, multiplied by `scale` (2 unless
 * given) in the PNG, and axes and legends need room around it.
 */
function chartForFrame(chart: Record<string, unknown>, frame: { width: number; height: number }): Record<string, unknown> {
  const spec = (chart.spec && typeof chart.spec === 'object' ? chart.spec : {}) as Record<string, unknown>;
  // Only single and layered views take a top-level size; concatenated and faceted ones size
  // their parts.
  if (!('mark' in spec || 'layer' in spec)) return { ...chart, format: 'png' };
  const scale = typeof chart.scale === 'number' ? chart.scale : 2;
  const sized = {
    ...spec,
    ...(spec.width === undefined ? { width: Math.max(50, Math.round((frame.width / scale) * 0.8)) } : {}),
    ...(spec.height === undefined ? { height: Math.max(50, Math.round((frame.height / scale) * 0.7)) } : {}),
  };
  return { ...chart, spec: sized, format: 'png' };
}

/**
 * Produces the scene's picture as a file in the scratch directory: an asset copied out of storage
 * (SVG assets go through the image renderer like inline SVG, so the same safety rules apply), or
 * the primary output of the image/chart renderer.
 */
export async function renderSceneVisual(
  visual: VideoSceneVisual,
  frame: { width: number; height: number },
  ctx: RenderContext,
  renderers: SceneRenderers,
  index: number,
): Promise<string> {
  const where = ['scenes', index, 'visual'];
  if (visual.type !== 'asset') {
    const nested = (await nestedSceneInput(visual, frame, renderers, where))!;
    return renderNestedPrimary(nested.renderer, nested.input, ctx, `scene-${index}-${visual.type}`, where);
  }

  const asset = await ctx.readAsset(visual.assetId);
  if (asset.contentType === 'image/svg+xml') {
    if (asset.byteSize > MAX_SVG_ASSET_BYTES) {
      asset.stream.destroy();
      throw new RenderError('validation_failed', `${where.join('.')}: SVG asset ${asset.id} is larger than 2 MB.`);
    }
    const file = path.join(ctx.tmpDir, `scene-${index}-asset.svg`);
    await saveStreamToFile(asset.stream, file, ctx.signal);
    const svg = await readFile(file, 'utf8');
    return renderSceneVisual({ type: 'svg', svg }, frame, ctx, renderers, index);
  }
  if (!asset.contentType.startsWith('image/')) {
    asset.stream.destroy();
    throw new RenderError('validation_failed', `${where.join('.')}: asset ${asset.id} is ${asset.contentType}, not an image.`, {
      details: [{ path: [...where, 'assetId'], message: `expected an image, got ${asset.contentType}` }],
    });
  }
  const file = path.join(ctx.tmpDir, `scene-${index}-asset`);
  await saveStreamToFile(asset.stream, file, ctx.signal);
  return file;
}
