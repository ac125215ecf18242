import type { Renderer } from '../contract.js';
import { outputPreviewRenderer } from './output-preview.js';

/** A renderer module (see KILN_RENDERER_MODULES) holding the internal output-preview kind. */
export const renderers: Renderer<any>[] = [outputPreviewRenderer];
