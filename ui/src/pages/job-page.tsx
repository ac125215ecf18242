import { useEffect, useState } from 'react';
import { applyEvent, isTerminalEvent, previewOf, type JobEvent, type JobView } from '../api/job-view.js';
import { isNotFound, useKiln } from '../api/kiln-client.js';
import { followStream, type StreamState } from '../live/follow-stream.js';
import { routeHref } from '../routing.js';
import { StatusBadge } from '../components/status-badge.js';
import { ProgressBar } from '../components/progress-bar.js';
import { ErrorNote } from '../components/error-note.js';
import { AssetPreview } from '../components/asset-preview.js';
import { EventLog } from '../components/event-log.js';
import { JobLineage } from '../components/lineage.js';
import { formatTime, jobDuration } from '../format.js';
import { useNow } from '../use-now.js';
import type { PageProps } from '../app.js';

/**
 * One job: its output first (with its Download button in view), then its warnings, state,
 * lineage and event log (history first, then live, from the job's own stream), and its input.
 */
export function JobPage({ companyId, apiKey, jobId }: PageProps & { jobId: string }) {
  const client = useKiln();
  const [job, setJob] = useState<JobView | null>(null);
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [stream, setStream] = useState<{ state: StreamState; error: unknown }>({ state: 'connecting', error: null });
  const [actionError, setActionError] = useState<unknown>(null);
  const [canceling, setCanceling] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    const refresh = () => client.getJob(companyId, jobId, { signal: abort.signal }).then(setJob, () => {});
    void followStream({
      open: (lastEventId, signal) => client.events(companyId, jobId, { lastEventId, signal }),
      onItem: (item) => {
        if (item.type === 'snapshot') return setJob(item.job);
        // Reopened after a long outage, the stream resumes after the last event shown; a
        // duplicate would only come from a server replaying more than asked.
        setEvents((list) => (list.some((e) => e.id === item.id) ? list : [...list, item]));
        setJob((current) => current && applyEvent(current, item));
        if (isTerminalEvent(item)) void refresh(); // outputs, warnings, exact times
      },
      onState: (state, error) => setStream({ state, error: error ?? null }),
      reopenAfterEnd: false,
      signal: abort.signal,
    });
    return () => abort.abort();
  }, [client, companyId, jobId]);

  const now = useNow(job?.status === 'running' ? 1000 : 15_000);

  const cancel = async () => {
    setCanceling(true);
    setActionError(null);
    try {
      setJob(await client.cancelJob(companyId, jobId));
    } catch (err) {
      setActionError(err);
    } finally {
      setCanceling(false);
    }
  };

  if (!job) {
    if (isNotFound(stream.error))
      return (
        <p className="empty">
          No job {jobId} in this company. <a href={routeHref('jobs')}>Back to the jobs</a>.
        </p>
      );
    return stream.error ? <ErrorNote error={stream.error} /> : <p className="muted">Loading…</p>;
  }

  const outputs = job.outputs.length > 0 ? job.outputs : job.assets.filter((a) => a.role === 'primary');
  const preview = previewOf(job);
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

      {job.error && (
        <div className={`panel job-error${job.status === 'canceled' ? ' job-canceled' : ''}`} role="alert" data-error-code={job.error.code}>
          <h2>{job.status === 'canceled' ? 'Canceled' : job.status === 'failed' ? 'Failed' : 'Last error'}</h2>
          <p>
            <code>{job.error.code}</code> {job.error.message}
          </p>
        </div>
      )}

      {outputs.length > 0 && (
        <section className="assets-section" aria-label="Output">
          {outputs.map((a) => (
            <AssetPreview key={a.id} asset={a} preview={preview} apiKey={apiKey} linkToAsset />
          ))}
        </section>
      )}

      {job.warnings.length > 0 && (
        <section className="panel job-warnings" aria-labelledby="job-warnings-title" data-warnings={job.warnings.length}>
          <h2 id="job-warnings-title">
            {job.warnings.length === 1 ? '1 warning' : `${job.warnings.length} warnings`}
            <span className="muted small">parts of the input were not rendered as written</span>
          </h2>
          <ul>
            {job.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </section>
      )}

      <div className="panel job-summary">
        <ProgressBar progress={job.progress} status={job.status} stage={job.stage} />
        <dl>
          {(
            [
              ['Task', <span className="mono">{job.sourceTaskId ?? '—'}</span>],
              ['Created', formatTime(job.createdAt)],
              ['Started', formatTime(job.startedAt)],
              ['Finished', formatTime(job.finishedAt)],
              ['Duration', jobDuration(job, now)],
              ['Attempt', `${job.attempt} of ${job.maxAttempts}`],
              ['Priority', job.priority],
            ] as const
          ).map(([term, value]) => (
            <div key={term}>
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      </div>

      <JobLineage job={job} />

      <div className="panel">
        <h2>
          Events <span className={`live live-${stream.state}`}>{stream.state === 'open' ? 'live' : stream.state === 'closed' ? 'complete' : stream.state}</span>
        </h2>
        <EventLog events={events} />
      </div>

      {preview && (
        <details className="panel preview-asset">
          <summary>Preview image ({preview.filename})</summary>
          <AssetPreview asset={preview} apiKey={apiKey} linkToAsset />
        </details>
      )}

      <details className="panel">
        <summary>Input</summary>
        <pre className="json">{JSON.stringify(job.input, null, 2)}</pre>
      </details>
    </section>
  );
}
