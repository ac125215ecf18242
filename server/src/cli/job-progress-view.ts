import type { JobStreamItem } from '@kiln/client';
import type { JobView } from '@kiln/shared';
import type { CliOutput } from './cli-command.js';

/** How `kiln watch` and `kiln submit --wait` show a job while it runs. */
export interface JobProgressView {
  onItem(item: JobStreamItem): void;
  /** The job ended: print its outcome. */
  finish(job: JobView): void;
  /** Stop redrawing (also after an error or Ctrl-C); leaves the terminal on a fresh line. */
  close(): void;
}

export interface ProgressViewOptions {
  /** JSON lines even on a terminal. */
  json: boolean;
  /** The server's URL, to show the output's (relative) URL as a full one. */
  baseUrl?: string;
}

/** JSON lines when stdout is not a terminal (or `--json`), a live progress bar when it is. */
export function createJobProgressView(out: CliOutput, options: ProgressViewOptions): JobProgressView {
  return options.json || !out.isTTY ? jsonLinesView(out) : progressBarView(out, Date.now, options.baseUrl);
}

/**
 * One JSON object per line: the snapshot `{type:'snapshot',job}`, then each JobEvent as the SDK
 * yields it, then `{type:'result',job}` — the finished job with its outputs, their URLs and its
 * warnings, which the terminal event (ids only) does not carry.
 */
export function jsonLinesView(out: CliOutput): JobProgressView {
  return {
    onItem: (item) => void out.write(`${JSON.stringify(item)}\n`),
    finish: (job) => void out.write(`${JSON.stringify({ type: 'result', job })}\n`),
    close: () => {},
  };
}

const REDRAW_MS = 200;

/**
 * A one-line bar redrawn in place with a carriage return: fraction, status, stage and elapsed
 * time. A timer redraws between events too, so the clock keeps moving during a long stage.
 */
export function progressBarView(out: CliOutput, now: () => number = Date.now, baseUrl = ''): JobProgressView {
  let status = 'queued';
  let progress = 0;
  let stage: string | null = null;
  let attempt = 0;
  // The server's createdAt, so `watch` of an older job shows its real age; clamped for clock skew.
  let since = now();
  // Events replayed from before the snapshot are already reflected in it; applying them would
  // flash the bar back to "queued". Same-transaction timestamps are equal, hence >=.
  let snapshotAt = 0;
  let drawn = false;
  let closed = false;
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref?.();

  function draw(final?: JobView) {
    if (closed) return;
    const elapsed = final?.finishedAt ? Date.parse(final.finishedAt) - Date.parse(final.createdAt) : now() - since;
    const columns = out.columns || 80; // a pty may report 0
    const width = Math.max(10, Math.min(30, columns - 50));
    const filled = Math.round(progress * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const pct = `${Math.floor(progress * 100)}%`.padStart(4);
    const label = [status, attempt > 1 ? `attempt ${attempt}` : null, stage].filter(Boolean).join(' · ');
    const line = `${bar} ${pct}  ${label}  ${formatDuration(Math.max(0, elapsed))}`;
    out.write(`\r\x1b[K${line.slice(0, Math.max(20, columns - 1))}`);
    drawn = true;
  }

  function apply(fields: { status?: string; progress?: number; stage?: string | null; attempt?: number }) {
    if (fields.status) status = fields.status;
    if (typeof fields.progress === 'number') progress = Math.min(1, Math.max(0, fields.progress));
    if (fields.stage !== undefined) stage = fields.stage;
    if (typeof fields.attempt === 'number') attempt = fields.attempt;
  }

  function close() {
    if (closed) return;
    clearInterval(timer);
    if (drawn) out.write('\n');
    closed = true;
  }

  return {
    onItem(item) {
      if (item.type === 'snapshot') {
        apply(item.job);
        since = Math.min(now(), Date.parse(item.job.createdAt) || now());
        snapshotAt = Date.parse(item.job.updatedAt) || 0;
      } else if (item.type !== 'asset.created' && Date.parse(item.createdAt) >= snapshotAt) {
        apply(item.payload);
        if (item.type === 'content_job.retrying') stage = `retrying${item.payload.error ? ` after ${item.payload.error.code}` : ''}`;
      }
      draw();
    },
    finish(job) {
      apply(job);
      draw(job);
      close();
      out.write(`${describeOutcome(job, baseUrl)}\n`);
    },
    close,
  };
}

function describeOutcome(job: JobView, baseUrl: string): string {
  const took = job.finishedAt ? ` in ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.createdAt))}` : '';
  if (job.status === 'done') {
    const assets = job.assets.map((a) => `  ${a.role.padEnd(7)} ${a.id}  ${a.contentType}  ${formatBytes(a.byteSize)}  ${a.filename}`);
    const url = job.output ? [`  output  ${absoluteUrl(job.output.url, baseUrl)}`] : [];
    return [`done${took}: job ${job.id}`, ...assets, ...url].join('\n');
  }
  if (job.status === 'failed') return `failed${took}: ${job.error?.code ?? 'unknown'}: ${job.error?.message ?? ''}`.trimEnd();
  return `${job.status}${took}: job ${job.id}`;
}

/** Asset URLs are relative unless the server has KILN_PUBLIC_URL; shown against the URL the CLI used. */
export function absoluteUrl(url: string, baseUrl: string): string {
  try {
    return new URL(url, baseUrl || undefined).href;
  } catch {
    return url;
  }
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
