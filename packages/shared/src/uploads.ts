/** Largest file one upload may be (`MAX_UPLOAD_BYTES` overrides it on the server). */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/**
 * How an upload of each accepted type is checked. `binary` types are recognised from their
 * bytes, which must say the same as the declared type (`sniffed`: what the bytes may be detected
 * as). `text` types carry no signature; they are parsed as what they claim to be instead.
 * `image` types are also decoded, and capped like generated images.
 */
export interface UploadTypeRule {
  family: 'image' | 'audio' | 'video' | 'document' | 'text';
  check: 'binary' | 'text';
  sniffed?: string[];
  /** Largest size for this type when less than the general limit (text is parsed whole). */
  maxBytes?: number;
}

export const UPLOAD_TYPES: Record<string, UploadTypeRule> = {
  'image/png': { family: 'image', check: 'binary', sniffed: ['image/png', 'image/apng'] },
  'image/jpeg': { family: 'image', check: 'binary', sniffed: ['image/jpeg'] },
  'image/gif': { family: 'image', check: 'binary', sniffed: ['image/gif'] },
  'image/webp': { family: 'image', check: 'binary', sniffed: ['image/webp'] },
  'image/avif': { family: 'image', check: 'binary', sniffed: ['image/avif'] },
  'image/svg+xml': { family: 'image', check: 'text', maxBytes: 2_000_000 },
  'audio/wav': { family: 'audio', check: 'binary', sniffed: ['audio/wav', 'audio/vnd.wave', 'audio/x-wav'] },
  'audio/mpeg': { family: 'audio', check: 'binary', sniffed: ['audio/mpeg'] },
  'audio/ogg': { family: 'audio', check: 'binary', sniffed: ['audio/ogg', 'audio/ogg; codecs=opus', 'audio/opus'] },
  'audio/mp4': { family: 'audio', check: 'binary', sniffed: ['audio/x-m4a', 'audio/mp4', 'video/mp4'] },
  'audio/aac': { family: 'audio', check: 'binary', sniffed: ['audio/aac'] },
  'audio/flac': { family: 'audio', check: 'binary', sniffed: ['audio/flac', 'audio/x-flac'] },
  'video/mp4': { family: 'video', check: 'binary', sniffed: ['video/mp4', 'video/quicktime', 'audio/x-m4a'] },
  'video/webm': { family: 'video', check: 'binary', sniffed: ['video/webm', 'audio/webm'] },
  'application/pdf': { family: 'document', check: 'binary', sniffed: ['application/pdf'] },
  'text/csv': { family: 'text', check: 'text', maxBytes: 50 * 1024 * 1024 },
  'text/tab-separated-values': { family: 'text', check: 'text', maxBytes: 50 * 1024 * 1024 },
  'application/json': { family: 'text', check: 'text', maxBytes: 50 * 1024 * 1024 },
  'text/markdown': { family: 'text', check: 'text', maxBytes: 2_000_000 },
  'text/plain': { family: 'text', check: 'text', maxBytes: 50 * 1024 * 1024 },
};

/** Other spellings of the accepted types, as browsers and tools send them. */
const ALIASES: Record<string, string> = {
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/mp3': 'audio/mpeg',
  'audio/x-m4a': 'audio/mp4',
  'audio/m4a': 'audio/mp4',
  'audio/x-flac': 'audio/flac',
  'audio/opus': 'audio/ogg',
  'image/jpg': 'image/jpeg',
  'text/x-markdown': 'text/markdown',
  'text/tsv': 'text/tab-separated-values',
  'application/csv': 'text/csv',
};

/** The accepted type a Content-Type stands for (parameters dropped, aliases resolved), or null. */
export function normalizeUploadType(contentType: string | undefined): string | null {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const type = ALIASES[base] ?? base;
  return UPLOAD_TYPES[type] ? type : null;
}
