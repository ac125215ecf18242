import { imageInputSchema, type ImageInput } from '@kiln/shared';
import type { RendererMeta } from '../lazy-renderer.js';

const EXAMPLE: ImageInput = {
  mode: 'card',
  title: 'Kiln renders your content',
  subtitle: 'Images, charts, documents, speech and video, as async jobs',
  body: 'Self-hosted. Every output is an asset with a preview, ready to link or embed.',
  size: 'og',
  theme: { background: '#0f172a', text: '#f8fafc', accent: '#38bdf8' },
  align: 'left',
  backgroundOverlay: 0.55,
  format: 'png',
};

/** What the `image` kind is, without what it takes to render it (loaded only when a render needs it). */
export const imageMeta: RendererMeta<ImageInput> = {
  kind: 'image',
  description:
    'Raster image (PNG, WebP, JPEG or AVIF): SVG markup rendered with shipped fonts (mode "svg"), or a title card ' +
      'with subtitle, body text, optional logo and background from your assets (mode "card"; sizes og, square, story).',
  inputSchema: imageInputSchema,
  example: EXAMPLE,
};
