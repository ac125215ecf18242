import { aiVideoInputSchema, MAX_AI_VIDEO_SECONDS, type AiVideoInput } from '@kiln/shared';
import { defineRenderer, RenderError, type RenderContext, type Renderer } from '@kiln/renderers';
import { providerKindBase, sleep, streamToOutput, withProvider, type ProviderHandle } from './provider-kind-base.js';
import { unreadable } from './provider-errors.js';

/** An `ai-video` job runs this long unless its request says otherwise: video models take minutes. */
export const AI_VIDEO_DEFAULT_TIMEOUT_MS = 30 * 60_000;
/** Largest reference image sent with a video request. */
const MAX_REFERENCE_IMAGE_BYTES = 20 * 1024 * 1024;
const REFERENCE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);
/** The remote job states that mean "still working". */
const WORKING = new Set(['queued', 'in_progress', 'pending', 'processing']);
/** How long one status poll may take: a hung connection costs a retry (which resumes), not the job's whole timeout. */
const POLL_TIMEOUT_MS = 60_000;
/** How long a cancel (DELETE) of the remote job may take once the Kiln job has stopped. */
const CANCEL_TIMEOUT_MS = 5000;

/** The Videos API's video object, as far as Kiln reads it. */
interface VideoObject {
  id?: unknown;
  status?: unknown;
  progress?: unknown;
  model?: unknown;
  seconds?: unknown;
  size?: unknown;
  error?: { code?: unknown; message?: unknown } | null;
}

/** What an attempt stores right after creating the remote job, so a retried attempt polls it instead of paying again. */
interface VideoCheckpoint {
  provider: string;
  videoId: string | null;
  requestId?: string | null;
}

/**
 * `ai-video`: the Videos API as a Kiln job that survives anything. `POST {baseUrl}/videos` creates
 * the remote job (multipart with `input_reference` when the input names a reference image, else
 * JSON) and its id is checkpointed at once; `GET {baseUrl}/videos/{id}` is polled every
 * `pollIntervalMs`, its `progress` becoming the job's; `GET {baseUrl}/videos/{id}/content` is
 * streamed into storage; a render process then measures it and makes its poster (previewOutputs).
 * An attempt retried after a lost worker, a shutdown or a transient failure finds the id in
 * ctx.resume and polls the same remote job. Canceling the Kiln job (or its timeout, or a failure
 * for good) cancels the remote one (`DELETE {baseUrl}/videos/{id}`).
 */
export function aiVideoKind(serving: ProviderHandle[]): Renderer<AiVideoInput> {
  const base = providerKindBase('ai-video', serving);
  return defineRenderer<AiVideoInput>({
    kind: 'ai-video',
    ...base.renderer,
    defaultTimeoutMs: AI_VIDEO_DEFAULT_TIMEOUT_MS,
    description:
      `A video clip from a remote video model (OpenAI-compatible Videos API; providers: ${base.names.join(', ')}): up to ` +
      `${MAX_AI_VIDEO_SECONDS} s from a prompt and optionally a reference image asset, as MP4 with a WebP poster preview. ` +
      'Takes minutes (default timeout 30 min): the remote job is resumed, not paid for twice, if a worker dies; progress is the model\'s.',
    inputSchema: aiVideoInputSchema.extend(base.fields).strict(),
    example: { prompt: 'A paper boat drifting down a rainy street, slow camera pan', seconds: 4, size: '1280x720' },
    assetRefs: (input) => (input.imageAssetId ? [input.imageAssetId] : []),
    async render(input, ctx) {
      const { handle, model } = base.pick(input);
      const { client, config } = handle;
      const saved = ctx.resume as Partial<VideoCheckpoint> | undefined;
      let videoId = saved?.provider === config.name && typeof saved.videoId === 'string' ? saved.videoId : null;
      let requestId = videoId ? (saved?.requestId ?? null) : null;
      const path = (id: string, rest = '') => `/videos/${encodeURIComponent(id)}${rest}`;

      return withProvider(
        handle,
        ctx,
        async () => {
          let video: VideoObject | null = null;
          if (videoId) {
            ctx.log(`resuming remote video ${videoId} at ${config.name}`);
            try {
              video = (await client.getJson<VideoObject>(path(videoId), 'a video status request', ctx.signal, POLL_TIMEOUT_MS)).body;
            } catch (err) {
              // The provider no longer knows it (expired, deleted): start again.
              if (!(err instanceof RenderError) || (err.options.details as { status?: number })?.status !== 404) throw err;
              ctx.warn(`${config.name} no longer knew the video ${videoId} an earlier attempt started; a new one was made.`);
              videoId = null;
            }
          }
          if (!videoId) {
            ctx.progress(0.01, 'submit');
            const fields: Record<string, string> = {
              prompt: input.prompt,
              seconds: String(input.seconds),
              ...(input.size ? { size: input.size } : {}),
              ...(model ? { model } : {}),
            };
            const what = 'a video request';
            const created = input.imageAssetId
              ? await client.postForm<VideoObject>('/videos', { ...fields, input_reference: await readReference(ctx, input.imageAssetId) }, what, ctx.signal)
              : await client.postJson<VideoObject>('/videos', fields, what, ctx.signal);
            if (typeof created.body?.id !== 'string' || created.body.id.length === 0) throw unreadable(config, what, 'no video `id`', { retryable: false });
            videoId = created.body.id;
            requestId = created.requestId;
            // Before anything else: from here on the remote job is paid for.
            await ctx.checkpoint({ provider: config.name, videoId, requestId } satisfies VideoCheckpoint);
            video = created.body;
          }

          const id = videoId;
          for (;;) {
            const status = String(video?.status ?? '');
            if (status === 'completed') break;
            if (status === 'failed') await remoteFailure(ctx, config.name, id, video?.error);
            if (!WORKING.has(status)) throw unreadable(config, 'a video status request', `unknown status "${status.slice(0, 40)}"`, { retryable: false });
            const p = Number(video?.progress);
            ctx.progress(0.05 + 0.8 * (Number.isFinite(p) ? Math.min(100, Math.max(0, p)) / 100 : 0), 'generate');
            await sleep(config.pollIntervalMs, ctx.signal);
            video = (await client.getJson<VideoObject>(path(id), 'a video status request', ctx.signal, POLL_TIMEOUT_MS)).body;
          }

          ctx.progress(0.85, 'download');
          const what = 'a video download';
          const content = await client.getBytes(path(id, '/content'), what, ctx.signal);
          const webm = content.contentType?.startsWith('video/webm');
          await streamToOutput(ctx, content.body, { role: 'primary', contentType: webm ? 'video/webm' : 'video/mp4', filename: `ai-video.${webm ? 'webm' : 'mp4'}` }, config, what);
          ctx.progress(0.95, 'download');
          return {
            metadata: {
              primary: {
                provider: config.name,
                model: typeof video?.model === 'string' ? video.model : (model ?? null),
                requestId,
                remoteId: id,
                // Video models bill by the second of video made.
                usage: { seconds: Number(video?.seconds ?? input.seconds) || input.seconds },
              },
            },
          };
        },
        async () => {
          if (!videoId) return;
          await client.delete(path(videoId), 'a video cancel', AbortSignal.timeout(CANCEL_TIMEOUT_MS));
          ctx.log(`canceled remote video ${videoId} at ${config.name}`);
        },
      );

      /**
       * The remote job failed. A refusal (moderation, policy, bad input) is final; anything else may
       * pass, and the next attempt must start a new remote job, so the checkpoint is cleared first.
       */
      async function remoteFailure(c: RenderContext, provider: string, id: string, error: VideoObject['error']): Promise<never> {
        const code = typeof error?.code === 'string' ? error.code : '';
        const message = typeof error?.message === 'string' ? error.message.slice(0, 500) : 'no message';
        const text = `${provider}'s video job ${id} failed${code ? ` (${code})` : ''}: ${message}`;
        if (/moderation|policy|safety|content|invalid|reject/i.test(`${code} ${message}`)) {
          throw new RenderError('provider_rejected', text, { details: { provider, providerCode: code || undefined } });
        }
        await c.checkpoint({ provider, videoId: null } satisfies VideoCheckpoint);
        videoId = null;
        throw new RenderError('provider_error', text, { retryable: true, details: { provider, providerCode: code || undefined } });
      }
    },
  });
}

/** The reference image's bytes, to send as `input_reference` (read from storage, never decoded here). */
async function readReference(ctx: RenderContext, assetId: string) {
  const asset = await ctx.readAsset(assetId);
  if (!REFERENCE_TYPES.has(asset.contentType) || asset.byteSize > MAX_REFERENCE_IMAGE_BYTES) {
    asset.stream.destroy();
    const why = REFERENCE_TYPES.has(asset.contentType) ? `larger than ${MAX_REFERENCE_IMAGE_BYTES / 1024 / 1024} MiB` : `${asset.contentType}, not PNG, JPEG or WebP`;
    throw new RenderError('validation_failed', `imageAssetId: asset ${assetId} is ${why}.`, { details: [{ path: ['input', 'imageAssetId'], message: why }] });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of asset.stream) chunks.push(Buffer.from(chunk as Buffer));
  const extension = asset.contentType === 'image/jpeg' ? 'jpg' : asset.contentType.slice('image/'.length);
  return { bytes: Buffer.concat(chunks), contentType: asset.contentType, filename: `reference.${extension}` };
}
