import { aiSpeechInputSchema, MAX_AI_SPEECH_TEXT_CHARS, type AiSpeechFormat, type AiSpeechInput } from '@kiln/shared';
import { defineRenderer, type Renderer } from '@kiln/renderers';
import { providerKindBase, streamToOutput, withProvider, type ProviderHandle } from './provider-kind-base.js';

/** How each format is stored (the same types Kiln's own speech kind and uploads use). */
const SPEECH_TYPES: Record<AiSpeechFormat, { contentType: string; extension: string }> = {
  mp3: { contentType: 'audio/mpeg', extension: 'mp3' },
  opus: { contentType: 'audio/ogg; codecs=opus', extension: 'opus' },
  aac: { contentType: 'audio/aac', extension: 'aac' },
  flac: { contentType: 'audio/flac', extension: 'flac' },
  wav: { contentType: 'audio/wav', extension: 'wav' },
};

/**
 * `ai-speech`: `POST {baseUrl}/audio/speech` with the text, voice and `response_format`; the audio
 * is streamed into storage as it arrives, then measured and given a waveform preview in a render
 * process (previewOutputs).
 */
export function aiSpeechKind(serving: ProviderHandle[]): Renderer<AiSpeechInput> {
  const base = providerKindBase('ai-speech', serving);
  return defineRenderer<AiSpeechInput>({
    kind: 'ai-speech',
    ...base.renderer,
    description:
      `Speech from a remote text-to-speech model (OpenAI-compatible Audio API; providers: ${base.names.join(', ')}): up to ` +
      `${MAX_AI_SPEECH_TEXT_CHARS.toLocaleString('en')} characters as MP3, Opus, AAC, FLAC or WAV, with a PNG waveform preview; ` +
      'the asset metadata records the provider, model, request id and duration.',
    inputSchema: aiSpeechInputSchema.extend(base.fields).strict(),
    example: { text: 'Your report is ready. Revenue grew twelve percent this quarter.', voice: 'alloy', format: 'mp3' },
    async render(input, ctx) {
      const { handle, model } = base.pick(input);
      const { client, config } = handle;
      const type = SPEECH_TYPES[input.format];
      return withProvider(handle, ctx, async () => {
        ctx.progress(0.05, 'generate');
        const what = 'a speech request';
        const answer = await client.postForBytes(
          '/audio/speech',
          { ...(model ? { model } : {}), input: input.text, voice: input.voice, response_format: input.format },
          what,
          ctx.signal,
        );
        ctx.progress(0.5, 'download');
        await streamToOutput(ctx, answer.body, { role: 'primary', contentType: type.contentType, filename: `ai-speech.${type.extension}` }, config, what);
        ctx.progress(0.95, 'download');
        return {
          metadata: {
            primary: {
              provider: config.name,
              model: model ?? null,
              requestId: answer.requestId,
              voice: input.voice,
              // The Audio API reports no usage; speech is billed by the characters sent.
              usage: { characters: input.text.length },
            },
          },
        };
      });
    },
  });
}
