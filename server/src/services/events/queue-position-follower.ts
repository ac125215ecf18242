import { QUEUE_POSITION_EVENT, type QueuePositionEvent } from '@kiln/shared';
import type { SseStream } from '../../http/sse-stream.js';
import type { QueueEstimate } from '../jobs/queue-estimates.js';

export interface QueuePositionFollower {
  /** The stream to write the job's events to: it sees the job's status in what is sent. */
  sse: SseStream;
  /** The snapshot and replay are out: follow the position from now on, while the job is queued. */
  begin(): void;
}

/**
 * Sends `content_job.queue_position` on a job's own stream while the job is queued: a timer of
 * the stream's own recomputes the position every `intervalMs` and sends it when it changed, so at
 * most one a second. The event is live-only — computed, never stored, sent without `id:` — so a
 * client's Last-Event-ID keeps pointing at the last stored event and a resume is unaffected.
 *
 * The follower reads the job's status from the messages the stream itself sends (snapshot,
 * replayed and live events): it runs while the last status sent was `queued`, stops at once when
 * another status goes out (so a position never follows the `running` event), starts again if the
 * job comes back to the queue for a retry, and stops for good when the stream closes. A tick that
 * finds the job no longer queued stops too; the event that says so comes through the hub.
 */
export function followQueuePosition(o: {
  sse: SseStream;
  jobId: string;
  estimate: (jobId: string) => Promise<QueueEstimate | null>;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}): QueuePositionFollower {
  const intervalMs = o.intervalMs ?? 1000;
  let begun = false;
  let queued = false;
  /** The position the client last saw (from the snapshot or this follower); undefined: none yet. */
  let shown: number | null | undefined;
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;

  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const schedule = () => {
    if (timer || ticking || !begun || !queued || o.sse.closed) return;
    timer = setTimeout(() => void tick(), intervalMs);
    timer.unref();
  };

  async function tick() {
    timer = null;
    ticking = true;
    let next: QueueEstimate | null = null;
    let failed = false;
    try {
      next = await o.estimate(o.jobId);
    } catch (err) {
      failed = true;
      o.onError?.(err);
    } finally {
      ticking = false;
    }
    if (!queued || o.sse.closed) return;
    if (next && next.queuePosition !== shown) {
      shown = next.queuePosition;
      const data: QueuePositionEvent = { jobId: o.jobId, status: 'queued', ...next, createdAt: new Date().toISOString() };
      o.sse.send({ event: QUEUE_POSITION_EVENT, data });
    }
    // Not queued any more (claimed, canceled): its event is on the way through the hub. A failed
    // read (the database is away) tries again on the next tick.
    if (next === null && !failed) return;
    schedule();
  }

  o.sse.onClose(stop);

  const sse: SseStream = {
    send(message) {
      const data = message.data as { status?: unknown; queuePosition?: unknown } | null;
      if (data && typeof data === 'object' && typeof data.status === 'string') {
        const wasQueued = queued;
        queued = data.status === 'queued';
        if (!queued) stop();
        else if (message.event === 'snapshot') shown = typeof data.queuePosition === 'number' ? data.queuePosition : undefined;
        else if (!wasQueued) shown = undefined; // back in the queue (a retry): its new place is news
        schedule();
      }
      o.sse.send(message);
    },
    close: () => o.sse.close(),
    get closed() {
      return o.sse.closed;
    },
    onClose: (fn) => o.sse.onClose(fn),
  };

  return {
    sse,
    begin() {
      begun = true;
      schedule();
    },
  };
}
