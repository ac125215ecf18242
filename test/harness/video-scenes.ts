/**
 * Scenes for a video of about `seconds` (3 s each, cut and fade alternating), each an SVG slide
 * of its own colour, so a worker has a real encode to be killed in. `first` shifts the numbering
 * (and colours), so rounds of one run do not render identical videos.
 */
export function videoScenes(seconds: number, first = 0) {
  return Array.from({ length: Math.max(1, Math.round(seconds / 3)) }, (_, n) => {
    const i = n + first;
    const fill = ((i * 0x3a5f21) % 0xffffff).toString(16).padStart(6, '0');
    return {
      visual: {
        type: 'svg',
        svg: `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="1280" height="720" fill="#${fill}"/><text x="80" y="380" font-size="72" fill="#fff">Scene ${i + 1}</text></svg>`,
      },
      durationMs: 3000,
      caption: `Scene ${i + 1}`,
      transition: i % 2 ? 'fade' : 'cut',
      transitionMs: 500,
    };
  });
}
