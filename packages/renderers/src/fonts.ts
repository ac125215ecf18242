import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * Fonts ship with Kiln (DejaVu, free licence in fonts/LICENSE-DejaVu.txt) so output never depends
 * on what the host has installed: resvg silently drops text it has no font for.
 */
export const FONT_DIR = fileURLToPath(new URL('../fonts/', import.meta.url));

export const FONT_FILES = {
  sans: path.join(FONT_DIR, 'DejaVuSans.ttf'),
  sansBold: path.join(FONT_DIR, 'DejaVuSans-Bold.ttf'),
  sansItalic: path.join(FONT_DIR, 'DejaVuSans-Oblique.ttf'),
  sansBoldItalic: path.join(FONT_DIR, 'DejaVuSans-BoldOblique.ttf'),
  mono: path.join(FONT_DIR, 'DejaVuSansMono.ttf'),
} as const;

export const DEFAULT_FONT_FAMILY = 'DejaVu Sans';
