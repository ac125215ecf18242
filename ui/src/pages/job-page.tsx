import { useEffect, useState } from 'react';
import { applyEvent, isTerminal, kilnApi, streamJobEvents, type AssetView, type JobView, type LiveEvent } from '../api/kiln-api.js';
import { ApiError } from '../api/http.js';
import type { StreamState } from '../api/sse.js';
import { routeHref } from '../routing.js';
import { StatusBadge } from '../components/status-badge.js';
import { ProgressBar } from '../components/progress-bar.js';
import { ErrorNote } from '../components/error-note.js';
import { AssetPreview } from '../components/asset-preview.js';
import { formatTime, jobDuration } from '../format.js';
import { useNow } from '../use-now.js';
import type { PageProps } from '../app.js';

/** One job: its state and event log from the job's own stream (history first, then live), its outputs. */
export function JobPage({ companyId, apiKey, jobId }: PageProps & { jobId: string }) {
  const [job, setJob] = useState<JobView | null>(null);
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [stream, setStream] = useState<{ state: StreamState; error: unknown }>({ state: 'connecting', error: null });
  const [actionError, setActionError] = useState<unknown>(null);
  const [canceling, setCanceling] = useState(false);

  useEffect(() => {
    const refresh = () => kilnApi.getJob(companyId, jobId).then(setJob, () => {});
    const s = streamJobEvents(companyId, jobId, {
      onSnapshot: (snapshot) => setJob(snapshot),
      onEvent: (event) => {
        // After a reconnect the server replays from Last-Event-ID; drop anything already shown.
        setEvents((list) => (list.some((e) => e.data.eventId === event.data.eventId) ? list : [...list, event]));
        setJob((current) => current && applyEvent(current, event));
        if (event.type !== 'asset.created' && isTerminal(event.data.status)) void refresh(); // assets, exact times
      },
      onState: (state, error) => setStream({ state, error: error ?? null }),
    });
    return () => s.close();
  }, [companyId, jobId]);

  const now = useNow(job?.status === 'running' ? 1000 : 15_000);

  const cancel = async () => {
    setCanceling(true);
    setActionError(null);
    try {
      setJob(await kilnApi.cancelJob(companyId, jobId));
    } catch (err) {
      setActionError(err);
    } finally {
      setCanceling(false);
    }
  };

  if (!job) {
    if (stream.error instanceof ApiError && stream.error.status === 404)
      return (
        <p className="empty">
          No job {jobId} in this company. <a href={routeHref('jobs')}>Back to the jobs</a>.
        </p>
      );
    return stream.error ? <ErrorNote error={stream.error} /> : <p className="muted">Loading…</p>;
  }

  const primaries = job.assets.filter((a) => a.role === 'primary');
  const previewFor = (a: AssetView) => job.assets.find((p) => p.role === 'preview' && p !== a);
  const cancelable = job.status === 'queued' || job.status === 'running';

  return (
    <section className="job-page" data-job-id={job.id} data-status={job.status}>
      <p className="crumbs">
        <a href={routeHref('jobs')}>Jobs</a> / <span className="mono">{job.id}</span>
      </p>
      <div className="page-head">
        <h1>
          {job.kind} <StatusBadge status={job.status} />
        </h1>
        <div className="actions">
          <a className="button" href={routeHref('new', { kind: job.kind, from: job.id })}>
            Run again…
          </a>
          {cancelable && (
            <button type="button" className="danger" onClick={cancel} disabled={canceling || job.cancelRequested} data-action="cancel">
              {job.cancelRequested ? 'Canceling…' : 'Cancel job'}
            </button>
          )}
        </div>
      </div>
      {actionError ? <ErrorNote error={actionError} /> : null}

      <div className="panel job-summary">
        <ProgressBar progress={job.progress} status={job.status} stage={job.stage} />
        <dl>
          <dt>Task</dt>
          <dd className="mono">{job.sourceTaskId ?? '—'}</dd>
          <dt>Created</dt>
          <dd>{formatTime(job.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{formatTime(job.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{formatTime(job.finishedAt)}</dd>
          <dt>Duration</dt>
          <dd>{jobDuration(job, now)}</dd>
          <dt>Attempt</dt>
          <dd>
            {job.attempt} of {job.maxAttempts}
          </dd>
          <dt>Priority</dt>
          <dd>{job.priority}</dd>
        </dl>
      </div>

      {job.error && (
        <div className={`panel job-error${job.status === 'canceled' ? ' job-canceled' : ''}`} role="alert" data-error-code={job.error.code}>
          <h2>{job.status === 'canceled' ? 'Canceled' : job.status === 'failed' ? 'Failed' : 'Last error'}</h2>
          <p>
            <code>{job.error.code}</code> {job.error.message}
          </p>
        </div>
      )}

      {primaries.length > 0 && (
        <div className="assets-section">
          <h2>Output</h2>
          {primaries.map((a) => (
            <AssetPreview key={a.id} asset={a} preview={previewFor(a)} apiKey={apiKey} />
          ))}
          {job.assets
            .filter((a) => a.role === 'preview')
            .map((a) => (
              <details key={a.id} className="preview-asset">
                <summary>Preview image ({a.filename})</summary>
                <AssetPreview asset={a} apiKey={apiKey} />
              </details>
            ))}
        </div>
      )}

      <div className="panel">
        <h2>
          Events <span className={`live live-${stream.state}`}>{stream.state === 'open' ? 'live' : stream.state === 'closed' ? 'complete' : stream.state}</span>
        </h2>
        {events.length === 0 ? (
          <p className="muted">No events yet.</p>
        ) : (
          <table className="event-log">
            <thead>
              <tr>
                <th>Time</th>
                <th>Event</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.data.eventId} data-event-type={e.type}>
                  <td className="mono">{eventTime(e.data.createdAt)}</td>
                  <td>{e.type}</td>
                  <td>{e.data.status}</td>
                  <td>{typeof e.data.progress === 'number' ? `${Math.round(e.data.progress * 100)}%` : ''}</td>
                  <td>{eventDetail(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <details className="panel">
        <summary>Input</summary>
        <pre className="json">{JSON.stringify(job.input, null, 2)}</pre>
      </details>
    </section>
  );
}

/** hh:mm:ss.mmm: events of one job are often milliseconds apart. */
function eventTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, fractionalSecondDigits: 3 });
}

function eventDetail(e: LiveEvent): string {
  const d = e.data;
  if (d.error) return `${d.error.code}: ${d.error.message}`;
  if (e.type === 'asset.created') return `${d.role ?? 'asset'} ${d.assetId ?? ''}`;
  if (d.runAt) return `retry at ${formatTime(d.runAt)}`;
  if (d.attempt) return `attempt ${d.attempt}${d.stage ? ` · ${d.stage}` : ''}`;
  return d.stage ?? '';
}
