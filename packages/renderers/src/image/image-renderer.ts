import { imageInputSchema, type ImageInput } from '@kiln/shared';
import { defineRenderer, throwIfAborted } from '../contract.js';
import { assertSafeSvg } from './svg-safety.js';
import { rasterizeSvg } from './rasterize-svg.js';
import { CONTENT_TYPES, encodeImageTo } from './encode-image.js';

const EXAMPLE_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="315" viewBox="0 0 600 315">' +
  '<rect width="600" height="315" fill="#1d4ed8"/>' +
  '<text x="40" y="170" font-size="48" fill="#ffffff">Hello from Kiln</text></svg>';

export const imageRenderer = defineRenderer<ImageInput>({
  kind: 'image',
  description: 'Raster image (PNG, WebP or JPEG) from SVG markup, rendered with shipped fonts.',
  inputSchema: imageInputSchema,
  example: { mode: 'svg', svg: EXAMPLE_SVG, format: 'png' },
  preflight(input) {
    assertSafeSvg(input.svg);
  },
  async render(input, ctx) {
    assertSafeSvg(input.svg);
    ctx.progress(0.1, 'rasterize');
    const { png, width, height } = await rasterizeSvg(input.svg, { width: input.width, signal: ctx.signal });
    throwIfAborted(ctx.signal);
    ctx.progress(0.6, 'encode');
    const out = ctx.output({
      role: 'primary',
      contentType: CONTENT_TYPES[input.format],
      filename: `image.${input.format === 'jpeg' ? 'jpg' : input.format}`,
    });
    await encodeImageTo(png, input.format, out, ctx.signal);
    ctx.progress(1, 'encode');
    return { metadata: { primary: { width, height, format: input.format } } };
  },
});
