import { videoInputSchema, type VideoInput, MAX_VIDEO_DURATION_MS } from '@kiln/shared';
import type { z } from 'zod';
import type { RendererMeta } from '../lazy-renderer.js';

const EXAMPLE: z.input<typeof videoInputSchema> = {
  resolution: '720p',
  fps: 30,
  format: 'mp4',
  quality: 'standard',
  background: '#000000',
  scenes: [
    {
      visual: { type: 'card', card: { title: 'Quarterly results', subtitle: 'Q3 in thirty seconds' } },
      durationMs: 3000,
      fit: 'contain',
      transition: 'fade',
      transitionMs: 500,
    },
    {
      visual: {
        type: 'svg',
        svg: '<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="1280" height="720" fill="#1d4ed8"/><text x="80" y="380" font-size="72" fill="#fff">Revenue +12%</text></svg>',
      },
      durationMs: 3000,
      caption: 'Growth came from new customers in Europe.',
      fit: 'contain',
      transition: 'cut',
      transitionMs: 500,
    },
  ],
  soundtrack: { type: 'narration', text: 'Quarterly results. Revenue grew twelve percent.', voice: 'en-us', rate: 175, pitch: 50 },
};

/** What the `video` kind is, without what it takes to render it (loaded only when a render needs it). */
export const videoMeta: RendererMeta<VideoInput> = {
  kind: 'video',
  description:
    'MP4 (H.264 + AAC) or WebM (VP9 + Opus) from a list of scenes (image assets, SVG, cards or charts) with ' +
      `captions, cut/fade/slide transitions and a narration or music soundtrack; up to ${MAX_VIDEO_DURATION_MS / 60000} minutes. ` +
      'Preview: a WebP poster frame.',
  inputSchema: videoInputSchema,
  example: EXAMPLE,
};
