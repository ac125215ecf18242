import { z } from 'zod';

export const IMAGE_FORMATS = ['png', 'webp', 'jpeg'] as const;

/** `image` in `svg` mode: the caller supplies SVG markup; nothing it references is fetched. */
export const imageSvgInputSchema = z
  .object({
    mode: z.literal('svg').default('svg'),
    svg: z.string().min(1).max(2_000_000),
    format: z.enum(IMAGE_FORMATS).default('png'),
    width: z.number().int().min(1).max(8192).optional(),
  })
  .strict();

export const imageInputSchema = imageSvgInputSchema;
export type ImageInput = z.infer<typeof imageInputSchema>;
