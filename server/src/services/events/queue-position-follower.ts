import { QUEUE_POSITION_EVENT, type QueuePositionEvent } from '@kiln/shared';
import type { SseStream } from '../../http/sse-stream.js';
import type { QueueEstimate } from '../jobs/queue-estimates.js';

export interface QueuePositionFollower {
  /** The stream to write the job's events to: it sees the job's status in what is sent. */
  sse: SseStream;
  /** The snapshot and replay are out: follow the position from now on, while the job is queued. */
  begin(): void;
}

/** Hears a job's estimate once a round (about a second); returns the function that stops it. */
export type FollowQueueEstimate = (jobId: string, listener: (estimate: QueueEstimate | null) => void) => () => void;

/**
 * Sends `content_job.queue_position` on a job's own stream while the job is queued, when its
 * position changed. The estimates come from the process's queue rounds (`queueEstimator.follow`:
 * one read of the queue a second for every stream of the process), so at most one event a second.
 * The event is live-only — computed, never stored, sent without `id:` — so a client's
 * Last-Event-ID keeps pointing at the last stored event and a resume is unaffected.
 *
 * The follower reads the job's status from the messages the stream itself sends (snapshot,
 * replayed and live events): it follows while the last status sent was `queued`, stops at once
 * when another status goes out (so a position never follows the `running` event), follows again
 * if the job comes back to the queue for a retry, and stops for good when the stream closes.
 */
export function followQueuePosition(o: { sse: SseStream; jobId: string; follow: FollowQueueEstimate }): QueuePositionFollower {
  let begun = false;
  let queued = false;
  /** The position the client last saw (from the snapshot or from us); undefined: none yet. */
  let shown: number | undefined;
  let unfollow: (() => void) | null = null;

  const stop = () => {
    unfollow?.();
    unfollow = null;
  };
  const update = () => {
    if (!begun || !queued || o.sse.closed) return stop();
    unfollow ??= o.follow(o.jobId, (estimate) => {
      // null: no longer queued; the event that says so is on its way through the hub.
      if (!estimate || !queued || o.sse.closed || estimate.queuePosition === shown) return;
      shown = estimate.queuePosition;
      const data: QueuePositionEvent = { jobId: o.jobId, status: 'queued', ...estimate, createdAt: new Date().toISOString() };
      o.sse.send({ event: QUEUE_POSITION_EVENT, data });
    });
  };
  o.sse.onClose(stop);

  const sse: SseStream = {
    send(message) {
      const data = message.data as { status?: unknown; queuePosition?: unknown } | null;
      if (message.event !== QUEUE_POSITION_EVENT && data && typeof data === 'object' && typeof data.status === 'string') {
        const wasQueued = queued;
        queued = data.status === 'queued';
        if (message.event === 'snapshot') shown = typeof data.queuePosition === 'number' ? data.queuePosition : undefined;
        else if (queued && !wasQueued) shown = undefined; // back in the queue (a retry): its new place is news
        update();
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
      update();
    },
  };
}
