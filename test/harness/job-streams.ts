import { connectSse, type SseConnection, type SseMessage } from '../../server/test/support/sse-client.js';

export const TERMINAL_EVENTS = ['content_job.done', 'content_job.failed', 'content_job.canceled'];

/**
 * One client following one job's event stream (`GET …/content-jobs/:id/events`), as an agent
 * would: it counts what arrives and notes how the stream ended. It does not reconnect — a stream
 * that ends before its terminal event is exactly what the scenarios look for.
 */
export class JobStream {
  conn: SseConnection | null = null;
  error: string | null = null;
  endedAt: number | null = null;
  readonly openedAt = Date.now();

  private constructor(readonly jobId: string, readonly url: string) {}

  static async open(companyBase: string, jobId: string): Promise<JobStream> {
    const s = new JobStream(jobId, `${companyBase}/content-jobs/${jobId}/events`);
    try {
      s.conn = await connectSse(s.url);
      void s.conn.ended.then(() => (s.endedAt = Date.now()));
    } catch (err) {
      s.error = String(err);
      s.endedAt = Date.now();
    }
    return s;
  }

  /**
   * Resolves once the stream has replayed the job's first event (`content_job.queued`): its
   * snapshot and replay are done, it is live. Faults injected before that hit the replay, which
   * is a different path (see the replay scenario).
   */
  async waitLive(timeoutMs = 30_000): Promise<void> {
    if (!this.conn) throw new Error(`stream of ${this.jobId} did not open: ${this.error}`);
    await this.conn.waitFor((m) => m.event === 'content_job.queued', timeoutMs);
  }

  get messages(): SseMessage[] {
    return this.conn?.messages ?? [];
  }
  get ended(): boolean {
    return this.endedAt !== null;
  }
  /** Events of each type (snapshot included). */
  counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const m of this.messages) c[m.event] = (c[m.event] ?? 0) + 1;
    return c;
  }
  terminalEvents(): SseMessage[] {
    return this.messages.filter((m) => TERMINAL_EVENTS.includes(m.event));
  }
  /** The stream delivered its terminal event, and that was the last thing on it before it closed. */
  get endedAfterTerminal(): boolean {
    const last = this.messages[this.messages.length - 1];
    return this.ended && !!last && TERMINAL_EVENTS.includes(last.event);
  }
  /** Ids delivered more than once on this one stream (the protocol promises no repeat). */
  repeatedIds(): string[] {
    const seen = new Set<string>();
    const rep: string[] = [];
    for (const m of this.messages) {
      if (!m.id) continue;
      if (seen.has(m.id)) rep.push(m.id);
      seen.add(m.id);
    }
    return rep;
  }
  /** How many `content_job.running` events each attempt got on this stream. */
  runningPerAttempt(): Map<number, number> {
    const per = new Map<number, number>();
    for (const m of this.messages) if (m.event === 'content_job.running') per.set(m.data.attempt, (per.get(m.data.attempt) ?? 0) + 1);
    return per;
  }
  close(): void {
    this.conn?.close();
  }
}

/** A set of job streams, with the tallies the scenarios report. */
export class JobStreams {
  readonly all: JobStream[] = [];

  /** Opens a job's stream; with `live`, waits until its replay is done (see JobStream.waitLive). */
  async open(companyBase: string, jobId: string, options: { live?: boolean } = {}): Promise<JobStream> {
    const s = await JobStream.open(companyBase, jobId);
    this.all.push(s);
    if (options.live) await s.waitLive();
    return s;
  }

  /** Waits until every stream has ended, or `timeoutMs`; returns the ones still open. */
  async waitAllEnded(timeoutMs: number): Promise<JobStream[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.all.some((s) => !s.ended)) await new Promise((r) => setTimeout(r, 100));
    return this.all.filter((s) => !s.ended);
  }

  tally() {
    return {
      opened: this.all.length,
      failedToOpen: this.all.filter((s) => s.error).length,
      endedAfterTerminal: this.all.filter((s) => s.endedAfterTerminal).length,
      endedWithoutTerminal: this.all.filter((s) => s.ended && !s.error && !s.endedAfterTerminal).length,
      leftOpen: this.all.filter((s) => !s.ended).length,
      withRepeats: this.all.filter((s) => s.repeatedIds().length > 0).length,
      withTwoTerminals: this.all.filter((s) => s.terminalEvents().length > 1).length,
    };
  }

  /** The streams that did not end right after their terminal event, with what they received. */
  incomplete() {
    return this.all
      .filter((s) => !s.endedAfterTerminal)
      .map((s) => ({
        jobId: s.jobId,
        url: s.url,
        error: s.error,
        ended: s.ended,
        openForMs: (s.endedAt ?? Date.now()) - s.openedAt,
        events: s.messages.filter((m) => m.event !== 'content_job.progress').map((m) => `${m.id ?? '-'}:${m.event}`),
      }));
  }

  closeAll(): void {
    for (const s of this.all) s.close();
  }
}
