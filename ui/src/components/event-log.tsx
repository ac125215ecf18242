import { Fragment, useState } from 'react';
import type { JobEvent } from '../api/job-view.js';
import { formatTime } from '../format.js';

type Entry = { kind: 'event'; event: JobEvent } | { kind: 'progress-run'; events: JobEvent[] };

/** Runs of two or more progress events become one entry; everything else stays as it came. */
export function foldProgressRuns(events: JobEvent[]): Entry[] {
  const entries: Entry[] = [];
  for (const event of events) {
    const last = entries[entries.length - 1];
    if (event.type !== 'content_job.progress') entries.push({ kind: 'event', event });
    else if (last?.kind === 'progress-run') last.events.push(event);
    else if (last?.kind === 'event' && last.event.type === 'content_job.progress') entries[entries.length - 1] = { kind: 'progress-run', events: [last.event, event] };
    else entries.push({ kind: 'event', event });
  }
  return entries;
}

const percent = (e: JobEvent) => (typeof e.payload.progress === 'number' ? `${Math.round(e.payload.progress * 100)}%` : '');

/**
 * A job's events, oldest first. A render reports progress many times, so each run of progress
 * events is one line ("progress 10% → 90% (14 events)") that opens to show them all.
 */
export function EventLog({ events }: { events: JobEvent[] }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (events.length === 0) return <p className="muted">No events yet.</p>;
  const toggle = (key: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Event log">
      <table className="event-log">
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>Progress</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {foldProgressRuns(events).map((entry) => {
            if (entry.kind === 'event') return <EventRow key={entry.event.id} event={entry.event} />;
            const first = entry.events[0]!;
            const last = entry.events[entry.events.length - 1]!;
            const key = first.id;
            const expanded = open.has(key);
            return (
              <Fragment key={key}>
                <tr className="event-fold" data-event-fold={entry.events.length}>
                  <td className="mono">{eventTime(first.createdAt)}</td>
                  <td colSpan={2} className="fold-cell">
                    <button type="button" className="link-button fold-toggle" aria-expanded={expanded} onClick={() => toggle(key)}>
                      <span aria-hidden="true">{expanded ? '▾' : '▸'}</span> progress {percent(first)} → {percent(last)} ({entry.events.length} events)
                    </button>
                  </td>
                  <td>{last.payload.stage ?? ''}</td>
                </tr>
                {expanded && entry.events.map((e) => <EventRow key={e.id} event={e} nested />)}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function EventRow({ event: e, nested = false }: { event: JobEvent; nested?: boolean }) {
  return (
    <tr data-event-type={e.type} className={nested ? 'event-nested' : undefined}>
      <td className="mono">{eventTime(e.createdAt)}</td>
      <td>{e.type}</td>
      <td>{percent(e)}</td>
      <td>{eventDetail(e)}</td>
    </tr>
  );
}

/** hh:mm:ss.mmm: events of one job are often milliseconds apart. */
function eventTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, fractionalSecondDigits: 3 });
}

function eventDetail(e: JobEvent): string {
  const d = e.payload;
  if (d.error) return `${d.error.code}: ${d.error.message}`;
  if (e.type === 'asset.created') return `${d.role ?? 'asset'} ${d.assetId ?? ''}`;
  if (d.runAt) return `retry at ${formatTime(d.runAt)}`;
  if (d.attempt) return `attempt ${d.attempt}${d.stage ? ` · ${d.stage}` : ''}`;
  return d.stage ?? '';
}
