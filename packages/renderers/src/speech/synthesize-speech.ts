import { writeFile } from 'node:fs/promises';
import type { SpeechVoiceInput } from '@kiln/shared';
import { RenderError } from '../contract.js';
import { runProcess } from '../media/run-process.js';

/**
 * Speaks `text` into a WAV file (22,050 Hz mono, espeak-ng's native format) at `wavPath`.
 *
 * The text goes through a file, not argv: argv has a length limit and text starting with `-`
 * would read as an option. SSML (`-m`) stays off so markup is spoken literally and cannot point
 * espeak-ng at other files.
 */
export async function synthesizeSpeech(
  input: SpeechVoiceInput,
  files: { textPath: string; wavPath: string },
  options: { signal: AbortSignal; log?: (line: string) => void },
): Promise<void> {
  await writeFile(files.textPath, input.text, 'utf8');
  const voice = input.variant ? `${input.voice}+${input.variant}` : input.voice;
  await runProcess(
    'espeak-ng',
    ['-v', voice, '-s', String(input.rate), '-p', String(input.pitch), '-b', '1', '-f', files.textPath, '-w', files.wavPath],
    {
      signal: options.signal,
      log: options.log,
      describeFailure: ({ stderr }) =>
        /voice does not exist|failed to (?:load|read) voice/i.test(stderr)
          ? new RenderError('validation_failed', `espeak-ng has no voice "${voice}"; \`espeak-ng --voices\` lists them.`, {
              details: [{ path: ['input', 'voice'], message: stderr.trim() }],
            })
          : undefined,
    },
  );
}
