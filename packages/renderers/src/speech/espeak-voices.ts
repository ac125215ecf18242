import type { SpeechVoiceInput } from '@kiln/shared';
import { RenderError } from '../contract.js';
import { runProcess } from '../media/run-process.js';

/** The voices and variants the installed espeak-ng knows, by the names `-v` accepts. */
export interface EspeakVoices {
  /** Language names (`en-us`, `cmn`) and voice file names (`en-us` of `gmw/en-US`), lower case. */
  voices: Set<string>;
  /** Variant file names (`f3` of `!v/f3`, `klatt`, `whisper`), lower case. */
  variants: Set<string>;
}

const LIST_TIMEOUT_MS = 10_000;
let installed: Promise<EspeakVoices | null> | undefined;

/** Reads `espeak-ng --voices` once per process; null where espeak-ng is not installed. */
export function installedVoices(): Promise<EspeakVoices | null> {
  installed ??= readInstalledVoices().catch(() => null);
  return installed;
}

async function readInstalledVoices(): Promise<EspeakVoices> {
  const voices = new Set<string>();
  const variants = new Set<string>();
  // Columns: Pty Language Age/Gender VoiceName File [Other languages]; names hold no spaces.
  const read = async (args: string[], each: (language: string, file: string) => void) => {
    let header = true;
    await runProcess('espeak-ng', args, {
      signal: AbortSignal.timeout(LIST_TIMEOUT_MS),
      onStdoutLine(line) {
        if (header) return void (header = false);
        const [, language, , , file] = line.trim().split(/\s+/);
        if (language && file) each(language.toLowerCase(), file.toLowerCase());
      },
    });
  };
  await read(['--voices'], (language, file) => {
    voices.add(language);
    voices.add(file.slice(file.lastIndexOf('/') + 1));
  });
  await read(['--voices=variant'], (_language, file) => variants.add(file.slice(file.lastIndexOf('/') + 1)));
  if (voices.size === 0) throw new Error('espeak-ng listed no voices');
  return { voices, variants };
}

/**
 * Refuses a voice or variant espeak-ng does not have, at submit rather than at render: an
 * unknown voice would fail the job later, and an unknown variant espeak-ng silently ignores.
 * Where espeak-ng is not installed (an API-only machine), the render makes the voice check.
 */
export async function checkVoice(input: SpeechVoiceInput, path: (string | number)[]): Promise<void> {
  const known = await installedVoices();
  if (!known) return;
  const details: { path: (string | number)[]; message: string }[] = [];
  if (!known.voices.has(input.voice.toLowerCase())) {
    details.push({ path: [...path, 'voice'], message: `espeak-ng has no voice "${input.voice}" (GET /api/renderers/speech lists examples; \`espeak-ng --voices\` lists them all).` });
  }
  if (input.variant && !known.variants.has(input.variant.toLowerCase())) {
    details.push({ path: [...path, 'variant'], message: `espeak-ng has no variant "${input.variant}" (f1–f5, m1–m7, klatt, whisper …).` });
  }
  if (details.length > 0) throw new RenderError('validation_failed', details.map((d) => d.message).join(' '), { details });
}
