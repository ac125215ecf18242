import type { Renderer } from './contract.js';
import { lazyRenderer } from './lazy-renderer.js';
import { imageMeta } from './image/image-meta.js';
import { speechMeta } from './speech/speech-meta.js';
import { videoMeta } from './video/video-meta.js';
import { chartMeta } from './chart/chart-meta.js';
import { documentMeta } from './document/document-meta.js';

/**
 * Every renderer Kiln ships, by kind. The server builds its registry from this list; each
 * renderer's code and libraries load on first use (see lazyRenderer).
 */
export function builtInRenderers(): Renderer<any>[] {
  return [
    lazyRenderer(imageMeta, async () => (await import('./image/image-renderer.js')).imageRenderer),
    lazyRenderer(speechMeta, async () => (await import('./speech/speech-renderer.js')).speechRenderer),
    lazyRenderer(videoMeta, async () => (await import('./video/video-renderer.js')).videoRenderer),
    lazyRenderer(chartMeta, async () => (await import('./chart/chart-renderer.js')).chartRenderer),
    // The document renderer owns a lazily launched Chromium, so each registry gets its own.
    lazyRenderer(documentMeta, async () => (await import('./document/document-renderer.js')).createDocumentRenderer()),
  ];
}

export type RendererRegistry = ReadonlyMap<string, Renderer<any>>;

export function createRendererRegistry(renderers: Renderer<any>[] = builtInRenderers()): RendererRegistry {
  return new Map(renderers.map((r) => [r.kind, r]));
}
