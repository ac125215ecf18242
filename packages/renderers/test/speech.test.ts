import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { z } from 'zod';
import { speechRenderer } from '../src/speech/speech-renderer.js';
import { probeMedia } from '../src/media/probe-media.js';
import { RenderError, type RenderContext } from '../src/contract.js';
import { processesInGroups, spawnedPids } from './support/process-groups.js';
import { renderWith, useRenderRuns } from './support/render-runs.js';

const { newRun } = useRenderRuns();

const SENTENCE = 'The quick brown fox jumps over the lazy dog. ';

// Renders after the submit-time check, as the server does.
const speak = (input: Record<string, unknown>) => renderWith(speechRenderer, input, newRun);
const preflight = (input: Record<string, unknown>) => speechRenderer.preflight!(speechRenderer.inputSchema.parse(input));

describe('speech renderer', () => {
  it.each([
    ['mp3', 'mp3', 'audio/mpeg', 22050],
    ['wav', 'pcm_s16le', 'audio/wav', 22050],
    ['opus', 'opus', 'audio/ogg; codecs=opus', 48000],
    ['aac', 'aac', 'audio/mp4', 22050],
  ] as const)('encodes %s (%s) with duration, sample rate and a waveform preview', async (format, codec, contentType, sampleRate) => {
    const { run, result, primary, preview } = await speak({ text: 'Your report is ready. Revenue grew twelve percent.', format });
    expect(primary.contentType).toBe(contentType);
    const info = await probeMedia(primary.path);
    const audio = info.streams.find((s) => s.codecType === 'audio')!;
    expect(audio.codecName).toBe(codec);
    expect(audio.sampleRate).toBe(sampleRate);
    expect(info.durationMs).toBeGreaterThan(1500);
    expect(result.metadata!.primary).toMatchObject({ format, sampleRate });
    expect(Math.abs(result.metadata!.primary!.durationMs! - info.durationMs!)).toBeLessThan(50);

    expect(preview.contentType).toBe('image/png');
    const png = await sharp(preview.path).stats();
    expect(png.isOpaque).toBe(true);
    // The waveform is drawn: some pixels are the blue stroke, most are the white background.
    expect(png.channels[0]!.min).toBeLessThan(100);
    expect(png.channels[0]!.max).toBe(255);
    expect(await sharp(preview.path).metadata()).toMatchObject({ format: 'png', width: 800, height: 200 });

    const fractions = run.progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
  });

  it('speaks longer text for longer', async () => {
    const short = await speak({ text: SENTENCE, format: 'wav' });
    const long = await speak({ text: SENTENCE.repeat(4), format: 'wav' });
    const shortMs = short.result.metadata!.primary!.durationMs!;
    const longMs = long.result.metadata!.primary!.durationMs!;
    expect(longMs).toBeGreaterThan(shortMs * 3);
    // A faster rate says the same text in less time.
    const fast = await speak({ text: SENTENCE.repeat(4), format: 'wav', rate: 350 });
    expect(fast.result.metadata!.primary!.durationMs!).toBeLessThan(longMs * 0.75);
  });

  it('speaks text that looks like options or markup literally', async () => {
    const { result } = await speak({ text: '--help -w /etc/passwd <speak><audio src="/etc/passwd"/></speak>', format: 'wav' });
    expect(result.metadata!.primary!.durationMs!).toBeGreaterThan(1000);
  });

  it('refuses an unknown voice with validation_failed', async () => {
    const run = await newRun();
    const input = speechRenderer.inputSchema.parse({ text: 'Hello', voice: 'zz-nowhere' });
    await expect(speechRenderer.render(input, run.ctx)).rejects.toMatchObject({ code: 'validation_failed' });
    expect(run.outputs).toHaveLength(0);
  });

  it('refuses an unknown voice or variant at submit, naming the field, and accepts installed ones in any case', async () => {
    await expect(preflight({ text: 'Hello', voice: 'zz-qq' })).rejects.toMatchObject({
      code: 'validation_failed',
      options: { details: [{ path: ['input', 'voice'], message: expect.stringContaining('zz-qq') }] },
    });
    // espeak-ng would ignore an unknown variant and speak with the default one.
    await expect(preflight({ text: 'Hello', voice: 'en-gb', variant: 'nosuchvariant' })).rejects.toMatchObject({
      code: 'validation_failed',
      options: { details: [{ path: ['input', 'variant'] }] },
    });
    for (const ok of [{ voice: 'en-us' }, { voice: 'EN-GB', variant: 'f3' }, { voice: 'cmn' }, { voice: 'de', variant: 'klatt' }]) {
      await expect(preflight({ text: 'Hello', ...ok })).resolves.toBeUndefined();
    }
  });

  it('validates input at the schema', () => {
    expect(speechRenderer.inputSchema.safeParse({ text: '   ' }).success).toBe(false);
    expect(speechRenderer.inputSchema.safeParse({ text: 'x'.repeat(20_001) }).success).toBe(false);
    expect(speechRenderer.inputSchema.safeParse({ text: 'hi', voice: '../../etc/passwd' }).success).toBe(false);
    expect(speechRenderer.inputSchema.safeParse({ text: 'hi', variant: 'f3 -w /tmp/x' }).success).toBe(false);
    expect(speechRenderer.inputSchema.safeParse({ text: 'hi', format: 'flac' }).success).toBe(false);
    expect(speechRenderer.inputSchema.parse(speechRenderer.example)).toMatchObject({ format: 'mp3', voice: 'en-us' });
    expect(() => z.toJSONSchema(speechRenderer.inputSchema, { io: 'input' })).not.toThrow();
  });

  it('renders its example', async () => {
    const { result } = await speak(speechRenderer.example as unknown as Record<string, unknown>);
    expect(result.metadata!.primary).toMatchObject({ format: 'mp3', codec: 'mp3', sampleRate: 22050 });
  });

  it.each(['espeak-ng', 'ffmpeg'])('abort while %s runs rejects within 2 s and leaves no process or output', async (tool) => {
    const run = await newRun();
    let abortedAt = 0;
    const ctx: RenderContext = {
      ...run.ctx,
      log(line) {
        run.ctx.log(line);
        // Abort shortly after the tool under test has started (it runs for seconds on this text).
        if (line.startsWith(`spawned ${tool} `) && !abortedAt) {
          setTimeout(() => {
            abortedAt = Date.now();
            run.abort(new RenderError('canceled', 'canceled by test'));
          }, 150);
        }
      },
    };
    const input = speechRenderer.inputSchema.parse({ text: SENTENCE.repeat(440), format: 'mp3' });
    const error = await speechRenderer.render(input, ctx).catch((e: unknown) => e);
    const settledAt = Date.now();
    expect(abortedAt).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'canceled' });
    expect(settledAt - abortedAt).toBeLessThan(2000);

    const pids = spawnedPids(run.logs);
    expect(run.logs.some((l) => l.startsWith(`spawned ${tool} `))).toBe(true);
    expect(processesInGroups(pids)).toEqual([]);
    await run.settled();
    expect(run.outputFor('primary')).toBeUndefined();
  });

  it('names the Debian packages when the tools are missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const run = await newRun();
      const input = speechRenderer.inputSchema.parse({ text: 'Hello' });
      await expect(speechRenderer.render(input, run.ctx)).rejects.toThrow(/espeak-ng is not installed.*apt-get install ffmpeg espeak-ng/);
    } finally {
      process.env.PATH = path;
    }
  });
});
