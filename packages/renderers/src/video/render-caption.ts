import satori from 'satori';
import { DEFAULT_FONT_FAMILY } from '../fonts.js';
import { rasterizeSvg } from '../image/rasterize-svg.js';

/**
 * A caption as a transparent PNG the size of the frame: a rounded dark box along the bottom with
 * the text wrapped to fit, drawn with the shipped DejaVu Sans.
 *
 * Captions are burnt into each scene's still rather than drawn by ffmpeg's drawtext: satori can
 * measure and wrap text (drawtext cannot), the text never passes through filter-graph syntax (no
 * escaping of `:`, `%{…}` or quotes to get wrong), and a still costs nothing per frame, where
 * drawtext re-renders the text on every one of them.
 */
export async function renderCaptionOverlay(
  text: string,
  options: { width: number; height: number; font: Buffer; signal: AbortSignal },
): Promise<Buffer> {
  const { width, height } = options;
  const short = Math.min(width, height);
  const fontSize = Math.max(10, Math.round(short * 0.05));
  const svg = await satori(
    {
      type: 'div',
      props: {
        style: { width, height, display: 'flex', alignItems: 'flex-end', justifyContent: 'center' },
        children: {
          type: 'div',
          props: {
            style: {
              display: 'flex',
              maxWidth: Math.round(width * 0.9),
              marginBottom: Math.round(height * 0.05),
              padding: `${Math.round(fontSize * 0.35)}px ${Math.round(fontSize * 0.7)}px`,
              borderRadius: Math.round(fontSize * 0.3),
              background: 'rgba(0, 0, 0, 0.65)',
              color: '#ffffff',
              fontFamily: DEFAULT_FONT_FAMILY,
              fontSize,
              lineHeight: 1.3,
              textAlign: 'center',
              whiteSpace: 'pre-wrap',
            },
            children: text,
          },
        },
      },
      // satori is typed against React elements; this plain { type, props } tree is what it reads.
    } as unknown as Parameters<typeof satori>[0],
    { width, height, fonts: [{ name: DEFAULT_FONT_FAMILY, data: options.font, weight: 400, style: 'normal' }] },
  );
  // resvg-js (napi-rs) takes over the AbortSignal it is given and rejects it with InvalidArg the
  // second time, so each call gets its own signal that follows the job's.
  const { png } = await rasterizeSvg(svg, { signal: AbortSignal.any([options.signal]) });
  return png;
}
