import { useCallback, useEffect, useRef, useState } from 'react';
import { applyEvent, isTerminal, JOB_STATUSES, type JobStatus, type JobView } from '../api/job-view.js';
import { useKiln } from '../api/kiln-client.js';
import { navigate, parseHash, routeHref, useRoute } from '../routing.js';
import { useCompanyListener, type CompanyMessage } from '../live/company-events.js';
import { StatusBadge } from '../components/status-badge.js';
import { ProgressBar } from '../components/progress-bar.js';
import { ErrorNote } from '../components/error-note.js';
import { QueueStats } from '../components/queue-stats.js';
import { formatTimeAgo, jobDuration, shortId } from '../format.js';
import { useNow } from '../use-now.js';
import type { PageProps } from '../app.js';

const PAGE_SIZE = 50;

interface JobFilters {
  status?: JobStatus;
  kind?: string;
  sourceTaskId?: string;
}

function filtersFrom(query: URLSearchParams): JobFilters {
  const status = query.get('status');
  return {
    status: (JOB_STATUSES as readonly string[]).includes(status ?? '') ? (status as JobStatus) : undefined,
    kind: query.get('kind') || undefined,
    sourceTaskId: query.get('task') || undefined,
  };
}

const matches = (job: JobView, f: JobFilters) =>
  (!f.status || job.status === f.status) && (!f.kind || job.kind === f.kind) && (!f.sourceTaskId || job.sourceTaskId === f.sourceTaskId);

const newestFirst = (a: JobView, b: JobView) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id.localeCompare(a.id);

/**
 * The company's jobs, kept current by the company event stream: one list request per filter
 * change (and per "Load more"), then only events — plus one GET for a job the page has not seen.
 */
export function JobsPage({ companyId, renderers }: PageProps) {
  const client = useKiln();
  const route = useRoute();
  const filters = filtersFrom(route.query);
  const filterKey = JSON.stringify(filters);
  const highlight = route.query.get('created');

  const [rows, setRowsState] = useState<JobView[] | null>(null);
  // Mirrors `rows` so event handlers can decide synchronously (state updaters run later).
  const rowsRef = useRef<JobView[] | null>(null);
  const setRows = useCallback((next: JobView[] | null | ((current: JobView[] | null) => JobView[] | null)) => {
    rowsRef.current = typeof next === 'function' ? next(rowsRef.current) : next;
    setRowsState(rowsRef.current);
  }, []);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [taskDraft, setTaskDraft] = useState(filters.sourceTaskId ?? '');
  // Events that arrive while the list request is in flight are applied once it answers.
  const pending = useRef<CompanyMessage[] | null>([]);
  const fetching = useRef(new Map<string, boolean>()); // job id → asked again meanwhile
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  useEffect(() => {
    const abort = new AbortController();
    pending.current = [];
    setRows(null);
    setError(null);
    client
      .listJobsPage(companyId, { ...filters, limit: PAGE_SIZE, signal: abort.signal })
      .then((page) => {
        const buffered = pending.current ?? [];
        pending.current = null;
        setRows(page.items);
        setNextCursor(page.nextCursor);
        buffered.forEach(handle);
      })
      .catch((err) => !abort.signal.aborted && setError(err));
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, companyId, filterKey]);

  const upsert = useCallback((job: JobView) => {
    setRows((current) => {
      if (!current) return current;
      const i = current.findIndex((r) => r.id === job.id);
      if (i >= 0) return current.map((r) => (r.id === job.id ? job : r));
      if (!matches(job, filtersRef.current)) return current;
      // Older than the loaded page: it belongs to a later page, not here.
      const oldest = current[current.length - 1];
      if (oldest && current.length >= PAGE_SIZE && Date.parse(job.createdAt) < Date.parse(oldest.createdAt)) return current;
      return [...current, job].sort(newestFirst);
    });
  }, []);

  /**
   * GET one job into the table. A request already in flight may answer with an older state than
   * the event that asked for this one, so a second ask while it runs fetches again afterwards.
   */
  const fetchJob = useCallback(
    (jobId: string) => {
      const inFlight = fetching.current;
      if (inFlight.has(jobId)) {
        inFlight.set(jobId, true);
        return;
      }
      inFlight.set(jobId, false);
      client
        .getJob(companyId, jobId)
        .then(upsert)
        .catch(() => {})
        .finally(() => {
          const again = inFlight.get(jobId);
          inFlight.delete(jobId);
          if (again) fetchJob(jobId);
        });
    },
    [client, companyId, upsert],
  );

  const handle = (m: CompanyMessage) => {
    if (pending.current) {
      pending.current.push(m);
      return;
    }
    if (m.type === 'snapshot') {
      // When the stream (re)opens: the active jobs as they are now.
      m.activeJobs.forEach((j) => upsert(j));
      return;
    }
    const event = m;
    const row = rowsRef.current?.find((r) => r.id === event.jobId);
    if (!row) {
      fetchJob(event.jobId); // a job this page has not seen: new, or older than the list
      return;
    }
    if (Date.parse(event.createdAt) >= Date.parse(row.updatedAt)) {
      setRows((current) => current && current.map((r) => (r.id === row.id ? applyEvent(r, event) : r)));
    }
    // The terminal state's exact times and assets come from the job itself.
    if (event.type !== 'asset.created' && isTerminal(event.payload.status)) fetchJob(row.id);
  };
  useCompanyListener(handle);

  const loadMore = () => {
    if (!nextCursor) return;
    client
      .listJobsPage(companyId, { ...filters, limit: PAGE_SIZE, cursor: nextCursor })
      .then((page) => {
        setRows((current) => {
          const seen = new Set((current ?? []).map((r) => r.id));
          return [...(current ?? []), ...page.items.filter((j) => !seen.has(j.id))];
        });
        setNextCursor(page.nextCursor);
      })
      .catch(setError);
  };

  const setFilter = (patch: Partial<Record<'status' | 'kind' | 'task', string>>) => {
    // From the URL as it is now, not as it was when a debounced call was scheduled.
    const current = filtersFrom(parseHash(window.location.hash).query);
    const q = { status: current.status, kind: current.kind, task: current.sourceTaskId, ...patch };
    navigate(routeHref('jobs', q), { replace: true });
  };

  // The task filter applies as you type, after a pause; a link that sets it shows in the box.
  useEffect(() => setTaskDraft(filters.sourceTaskId ?? ''), [filters.sourceTaskId]);
  useEffect(() => {
    if ((filters.sourceTaskId ?? '') === taskDraft.trim()) return;
    const t = setTimeout(() => setFilter({ task: taskDraft.trim() }), 350);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [taskDraft]);

  const visible = rows?.filter((j) => matches(j, filters)) ?? null;
  const now = useNow(visible?.some((j) => j.status === 'running') ? 1000 : 15_000);
  const kinds = renderers?.map((r) => r.kind) ?? [];
  if (filters.kind && !kinds.includes(filters.kind)) kinds.push(filters.kind);

  return (
    <section>
      <div className="page-head">
        <h1>Jobs</h1>
        <QueueStats companyId={companyId} />
        <a className="button primary" href={routeHref('new')}>
          New job
        </a>
      </div>
      <div className="filters">
        <label>
          Status
          <select name="status" value={filters.status ?? ''} onChange={(e) => setFilter({ status: e.target.value })}>
            <option value="">any</option>
            {JOB_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="kind" value={filters.kind ?? ''} onChange={(e) => setFilter({ kind: e.target.value })}>
            <option value="">any</option>
            {kinds.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Task
          <input name="task" placeholder="source task id" value={taskDraft} onChange={(e) => setTaskDraft(e.target.value)} />
        </label>
        {(filters.status || filters.kind || filters.sourceTaskId) && (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setTaskDraft('');
              navigate(routeHref('jobs'), { replace: true });
            }}
          >
            Clear filters
          </button>
        )}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      {visible === null && !error && <p className="muted">Loading…</p>}
      {visible?.length === 0 && <p className="empty">No jobs{filters.status || filters.kind || filters.sourceTaskId ? ' match these filters' : ' yet'}.</p>}
      {visible && visible.length > 0 && (
        <table className="jobs-table">
          <thead>
            <tr>
              <th>Status</th>
              <th className="col-progress">Progress</th>
              <th>Kind</th>
              <th>Task</th>
              <th>Created</th>
              <th>Duration</th>
              <th>Job</th>
            </tr>
          </thead>
          <tbody>
            {visible.map((job) => (
              <tr
                key={job.id}
                data-job-id={job.id}
                data-status={job.status}
                className={job.id === highlight ? 'highlight' : undefined}
                onClick={(e) => {
                  if (!(e.target as HTMLElement).closest('a')) navigate(routeHref(`jobs/${job.id}`));
                }}
              >
                <td className="cell-status">
                  <StatusBadge status={job.status} />
                </td>
                <td className="cell-progress">
                  <ProgressBar progress={job.progress} status={job.status} stage={job.stage} />
                </td>
                <td className="cell-kind" data-label="Kind">
                  {job.kind}
                </td>
                <td className={`cell-task mono${job.sourceTaskId ? '' : ' cell-empty'}`} data-label="Task">
                  {job.sourceTaskId ?? <span className="muted">—</span>}
                </td>
                <td className="cell-created" data-label="Created" title={job.createdAt}>
                  {formatTimeAgo(job.createdAt, now)}
                </td>
                <td className="cell-duration" data-label="Duration">
                  {jobDuration(job, now)}
                </td>
                <td className="cell-id" data-label="Job">
                  <a className="mono" href={routeHref(`jobs/${job.id}`)}>
                    {shortId(job.id)}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextCursor && (
        <button type="button" className="load-more" onClick={loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}
