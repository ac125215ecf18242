import { Readable } from 'node:stream';
import { aiImageInputSchema, MAX_AI_IMAGES, type AiImageInput } from '@kiln/shared';
import { defineRenderer, type Renderer } from '@kiln/renderers';
import { peek, plainUsage, providerKindBase, sniffImage, streamToOutput, withProvider, type ProviderHandle } from './provider-kind-base.js';
import { unreadable } from './provider-errors.js';

/** The Images API's answer: each image as base64 or as a URL to fetch. */
interface ImagesAnswer {
  data?: { b64_json?: unknown; url?: unknown; revised_prompt?: unknown }[];
  model?: unknown;
  usage?: unknown;
}

/**
 * `ai-image`: `POST {baseUrl}/images/generations` with the prompt, `n`, `size` and (when not PNG,
 * everyone's default) `output_format`. Each image of the answer becomes a primary output, whether
 * it came inline (`b64_json`) or as a `url` (fetched through the outbound guard unless it is on the
 * provider's own origin). Its type is what its bytes say; decoding, measuring and the preview
 * happen in a render process (previewOutputs).
 */
export function aiImageKind(serving: ProviderHandle[]): Renderer<AiImageInput> {
  const base = providerKindBase('ai-image', serving);
  return defineRenderer<AiImageInput>({
    kind: 'ai-image',
    ...base.renderer,
    description:
      `Images from a remote image model (OpenAI-compatible Images API; providers: ${base.names.join(', ')}): ` +
      `up to ${MAX_AI_IMAGES} per job, each a primary output with a 320 px WebP preview; the asset metadata records the ` +
      'provider, model, request id and usage. Paid per image by the operator; the output can be used as a card background or video scene.',
    inputSchema: aiImageInputSchema.extend(base.fields).strict(),
    example: { prompt: 'A watercolor lighthouse at dawn, soft morning light', size: '1024x1024', n: 1, format: 'png' },
    async render(input, ctx) {
      const { handle, model } = base.pick(input);
      const { client, config } = handle;
      return withProvider(handle, ctx, async () => {
        ctx.progress(0.05, 'generate');
        const what = 'an image request';
        const { body: answer, requestId } = await client.postJson<ImagesAnswer>(
          '/images/generations',
          {
            ...(model ? { model } : {}),
            prompt: input.prompt,
            n: input.n,
            ...(input.size ? { size: input.size } : {}),
            ...(input.format !== 'png' ? { output_format: input.format } : {}),
          },
          what,
          ctx.signal,
        );
        const images = Array.isArray(answer?.data) ? answer.data.slice(0, input.n) : [];
        if (images.length === 0) throw unreadable(config, what, 'no images in `data`');
        if (images.length < input.n) ctx.warn(`Asked ${config.name} for ${input.n} images; it answered ${images.length}.`);

        let format: string | undefined;
        for (const [i, image] of images.entries()) {
          ctx.progress(0.6 + (0.35 * i) / images.length, 'download');
          let stream: Readable;
          if (typeof image.b64_json === 'string' && image.b64_json.length > 0) {
            stream = Readable.from([Buffer.from(image.b64_json, 'base64')]);
          } else if (typeof image.url === 'string') {
            stream = (await client.download(image.url, `image ${i + 1}'s URL`, ctx.signal)).body;
          } else {
            throw unreadable(config, what, `image ${i + 1} has neither b64_json nor url`);
          }
          const peeked = await peek(stream, 12);
          const type = sniffImage(peeked.head);
          if (!type) {
            peeked.stream.destroy();
            throw unreadable(config, what, `image ${i + 1} is not a PNG, JPEG or WebP file`, { retryable: false });
          }
          if (type.format !== input.format && format === undefined) {
            ctx.warn(`Asked for ${input.format}; ${config.name} answered ${type.format}, kept as it came.`);
          }
          format = type.format;
          await streamToOutput(ctx, peeked.stream, { role: 'primary', contentType: type.contentType, filename: `ai-image.${type.extension}` }, config, what);
        }
        ctx.progress(0.95, 'download');
        const revised = images.length === 1 && typeof images[0]!.revised_prompt === 'string' ? images[0]!.revised_prompt.slice(0, 4000) : undefined;
        const usage = plainUsage(answer.usage);
        return {
          metadata: {
            primary: {
              provider: config.name,
              model: typeof answer.model === 'string' ? answer.model : (model ?? null),
              requestId,
              ...(usage ? { usage } : {}),
              ...(revised ? { revisedPrompt: revised } : {}),
            },
          },
        };
      });
    },
  });
}
