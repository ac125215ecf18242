import type { Renderer } from './contract.js';
import { imageRenderer } from './image/image-renderer.js';
import { speechRenderer } from './speech/speech-renderer.js';
import { videoRenderer } from './video/video-renderer.js';
import { chartRenderer } from './chart/chart-renderer.js';
import { createDocumentRenderer } from './document/document-renderer.js';

/** Every renderer Kiln ships, by kind. The server builds its registry from this list. */
export function builtInRenderers(): Renderer<any>[] {
  // The document renderer owns a lazily launched Chromium, so each registry gets its own.
  return [imageRenderer, speechRenderer, videoRenderer, chartRenderer, createDocumentRenderer()];
}

export type RendererRegistry = ReadonlyMap<string, Renderer<any>>;

export function createRendererRegistry(renderers: Renderer<any>[] = builtInRenderers()): RendererRegistry {
  return new Map(renderers.map((r) => [r.kind, r]));
}
