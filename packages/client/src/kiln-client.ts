import {
  isTerminalStatus,
  type AssetView,
  type CompanyView,
  type CreateCompanyBody,
  type CreateJobBody,
  type CreateJobResponse,
  type FinishedJobResponse,
  type AssetLineage,
  type CompanyStats,
  type JobEvent,
  type JobStatus,
  type JobView,
  type Page,
  type RendererView,
} from '@kiln/shared';
import { createHttpTransport, type FetchLike } from './http-transport.js';
import { paginate } from './paginate.js';
import { resumableEventStream, type ReconnectOptions } from './resumable-event-stream.js';
import { writeBody, type DownloadDestination, type DownloadResult } from './download-asset.js';
import { uploadBody } from './upload-body.js';

export interface KilnClientOptions {
  /** Where Kiln listens, e.g. `http://127.0.0.1:3100`. `''` in a browser page served by Kiln (same origin). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; not needed in `local_trusted` mode. */
  apiKey?: string;
  /** A fetch to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: FetchLike;
  /** How event streams reconnect after a dropped connection. */
  reconnect?: ReconnectOptions;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface CreateJobOptions extends CallOptions {
  /** Same key and same body within the retention window: the first job is returned, not a new one. */
  idempotencyKey?: string;
}

export interface CreateAndWaitOptions extends CreateJobOptions {
  /** Seconds (≤ 60) the server may hold the answer until the job ends (`Prefer: wait=N`). */
  wait?: number;
}

export interface UploadOptions extends CallOptions {
  /** The file's name (kept as the asset's download name). */
  filename?: string;
  /** Its type (`image/png`, `text/csv` …); from the file name's extension when absent. */
  contentType?: string;
}

/** Something to upload: bytes, a Blob/File, a web ReadableStream, or (Node) a file path. */
export type UploadSource = Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | string;

export interface ListJobsFilter extends CallOptions {
  status?: JobStatus;
  kind?: string;
  sourceTaskId?: string;
  /** Items per request (1–200, server default 50); iteration still covers every page. */
  pageSize?: number;
}

export interface ListAssetsFilter extends CallOptions {
  sourceTaskId?: string;
  jobId?: string;
  pageSize?: number;
}

export interface EventsOptions extends CallOptions {
  /** Resume after this event id; only later events are yielded. */
  lastEventId?: string;
}

/** The job as it was when the stream first connected. Yielded once, before any event. */
export interface JobSnapshot {
  type: 'snapshot';
  job: JobView;
}

/** The company's queued and running jobs when the stream first connected. */
export interface CompanySnapshot {
  type: 'snapshot';
  companyId: string;
  activeJobs: JobView[];
}

export type JobStreamItem = JobSnapshot | JobEvent;
export type CompanyStreamItem = CompanySnapshot | JobEvent;

export interface WaitForJobOptions extends CallOptions {
  /** Called with the snapshot and every event, in order, while waiting. */
  onEvent?: (item: JobStreamItem) => void;
}

export type KilnClient = ReturnType<typeof createKilnClient>;

const seg = encodeURIComponent;
const companyPath = (companyId: string) => `/api/companies/${seg(companyId)}`;
const jobPath = (companyId: string, jobId: string) => `${companyPath(companyId)}/content-jobs/${seg(jobId)}`;
const assetPath = (companyId: string, assetId: string) => `${companyPath(companyId)}/assets/${seg(assetId)}`;

/**
 * A typed client for Kiln's HTTP API. Uses fetch, ReadableStream and TextDecoder only, so it runs
 * in Node 20 and in browsers; only `downloadAsset` to a file path needs Node.
 * Every failed call throws `KilnApiError` (`status`, `code`, `message`, `details`).
 *
 * @example
 * const kiln = createKilnClient({ baseUrl: 'http://127.0.0.1:3100', apiKey: process.env.KILN_API_KEY });
 * const { jobId } = await kiln.createJob(companyId, { kind: 'image', input: { svg } });
 * const job = await kiln.waitForJob(companyId, jobId);
 * if (job.status === 'done') await kiln.downloadAsset(companyId, job.assets[0].id, './out.png');
 */
export function createKilnClient(options: KilnClientOptions) {
  const http = createHttpTransport(options);

  const client = {
    baseUrl: http.baseUrl,

    createJob(companyId: string, body: CreateJobBody, o: CreateJobOptions = {}): Promise<CreateJobResponse> {
      return http.json('POST', `${companyPath(companyId)}/content-jobs`, {
        body,
        headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined,
        signal: o.signal,
      });
    },

    /**
     * The job. With `wait` (seconds, ≤ 60) the answer comes as soon as it ends, or after that long
     * with the job as it is then.
     */
    getJob(companyId: string, jobId: string, o: CallOptions & { wait?: number } = {}): Promise<JobView> {
      return http.json('GET', jobPath(companyId, jobId), { signal: o.signal, query: { wait: o.wait } });
    },

    /**
     * Creates a job and returns it as a JobView. With `wait`, the server holds the answer until the
     * job ends (at most `wait` seconds): a finished job comes back with `output` set.
     * @example
     * const job = await kiln.create(companyId, { kind: 'chart', input }, { wait: 30 });
     * if (job.status === 'done') await kiln.downloadAsset(companyId, job.output!.id, './chart.png');
     */
    async create(companyId: string, body: CreateJobBody, o: CreateAndWaitOptions = {}): Promise<JobView> {
      const headers: Record<string, string> = {};
      if (o.idempotencyKey) headers['idempotency-key'] = o.idempotencyKey;
      if (o.wait !== undefined) headers.prefer = `wait=${Math.max(0, Math.floor(o.wait))}`;
      const res = await http.json<CreateJobResponse | FinishedJobResponse>('POST', `${companyPath(companyId)}/content-jobs`, { body, headers, signal: o.signal });
      if ('id' in res) return res;
      return client.getJob(companyId, res.jobId, { signal: o.signal });
    },

    /**
     * Creates a job and waits until it ends, however long that takes; returns the finished job
     * (check `status`; the result is `output`).
     */
    async run(companyId: string, body: CreateJobBody, o: CreateJobOptions & WaitForJobOptions = {}): Promise<JobView> {
      const job = await client.create(companyId, body, { ...o, wait: 60 });
      return isTerminalStatus(job.status) ? job : client.waitForJob(companyId, job.id, o);
    },

    /** One page of jobs, newest first; pass the previous page's `nextCursor` as `cursor`. */
    listJobsPage(companyId: string, f: Omit<ListJobsFilter, 'pageSize'> & { limit?: number; cursor?: string } = {}): Promise<Page<JobView>> {
      const { signal, ...query } = f;
      return http.json('GET', `${companyPath(companyId)}/content-jobs`, { query, signal });
    },

    /**
     * Every job matching the filter, newest first, across all pages.
     * @example for await (const job of kiln.listJobs(companyId, { status: 'failed' })) console.log(job.id);
     */
    listJobs(companyId: string, f: ListJobsFilter = {}): AsyncGenerator<JobView> {
      const { pageSize, ...rest } = f;
      return paginate((cursor) => client.listJobsPage(companyId, { ...rest, limit: pageSize, cursor }));
    },

    /** Cancels a queued job at once; a running one is flagged (`cancelRequested`) and stops shortly. */
    cancelJob(companyId: string, jobId: string, o: CallOptions = {}): Promise<JobView> {
      return http.json('POST', `${jobPath(companyId, jobId)}/cancel`, o);
    },

    /**
     * The job's snapshot, then each of its events exactly once, in order; ends after the terminal
     * event (`content_job.done|failed|canceled`). Survives dropped connections by resuming with
     * `Last-Event-ID`. The snapshot is yielded once, from the first connection, never on reconnects.
     * @example
     * for await (const e of kiln.events(companyId, jobId)) {
     *   if (e.type === 'content_job.progress') console.log(e.payload.progress, e.payload.stage);
     * }
     */
    events(companyId: string, jobId: string, o: EventsOptions = {}): AsyncGenerator<JobStreamItem> {
      return resumableEventStream<JobSnapshot>(http, {
        path: `${jobPath(companyId, jobId)}/events`,
        companyId,
        lastEventId: o.lastEventId,
        signal: o.signal,
        reconnect: options.reconnect,
        endsAfterTerminal: true,
        snapshot: (data) => {
          const job = data as JobView;
          return { item: { type: 'snapshot', job }, terminal: isTerminalStatus(job.status) };
        },
      });
    },

    /** Every event of every job of the company, resuming like `events`; it never ends by itself (break or abort). */
    companyEvents(companyId: string, o: EventsOptions = {}): AsyncGenerator<CompanyStreamItem> {
      return resumableEventStream<CompanySnapshot>(http, {
        path: `${companyPath(companyId)}/events`,
        companyId,
        lastEventId: o.lastEventId,
        signal: o.signal,
        reconnect: options.reconnect,
        endsAfterTerminal: false,
        snapshot: (data) => {
          const d = data as { companyId: string; activeJobs: JobView[] };
          return { item: { type: 'snapshot', companyId: d.companyId, activeJobs: d.activeJobs }, terminal: false };
        },
      });
    },

    /** Follows the job's events until it ends and returns its final state (with assets). */
    async waitForJob(companyId: string, jobId: string, o: WaitForJobOptions = {}): Promise<JobView> {
      for await (const item of client.events(companyId, jobId, { signal: o.signal })) o.onEvent?.(item);
      // The terminal event carries ids only; the view with asset details comes from one more read.
      return client.getJob(companyId, jobId, { signal: o.signal });
    },

    listAssetsPage(companyId: string, f: Omit<ListAssetsFilter, 'pageSize'> & { limit?: number; cursor?: string } = {}): Promise<Page<AssetView>> {
      const { signal, ...query } = f;
      return http.json('GET', `${companyPath(companyId)}/assets`, { query, signal });
    },

    /** Every asset matching the filter across all pages. */
    listAssets(companyId: string, f: ListAssetsFilter = {}): AsyncGenerator<AssetView> {
      const { pageSize, ...rest } = f;
      return paginate((cursor) => client.listAssetsPage(companyId, { ...rest, limit: pageSize, cursor }));
    },

    getAsset(companyId: string, assetId: string, o: CallOptions = {}): Promise<AssetView> {
      return http.json('GET', assetPath(companyId, assetId), o);
    },

    /** The company's queue now (queued, running) and jobs ended in the last minute and hour, by kind and in total. */
    getStats(companyId: string, o: CallOptions = {}): Promise<CompanyStats> {
      return http.json('GET', `${companyPath(companyId)}/stats`, o);
    },

    /** What the asset was made from (`ancestors`) and what was made from it (`descendants`), nearest first. */
    getLineage(companyId: string, assetId: string, o: CallOptions = {}): Promise<AssetLineage> {
      return http.json('GET', `${assetPath(companyId, assetId)}/lineage`, o);
    },

    /**
     * Uploads a file as an asset (role `input`) usable wherever an input takes an asset id. Bytes
     * are streamed, never buffered here; a Node file path is read as a stream.
     * @example const { id } = await kiln.upload(companyId, './logo.png');
     */
    async upload(companyId: string, source: UploadSource, o: UploadOptions = {}): Promise<AssetView> {
      const { body, filename, contentType } = await uploadBody(source, o);
      return http.json('POST', `${companyPath(companyId)}/assets`, { rawBody: body, contentType, query: { filename }, signal: o.signal });
    },

    /**
     * Streams the asset's bytes to a file path (Node; written to a temp file and renamed into
     * place), a WritableStream or a Node Writable (both ended afterwards). Never buffers the file.
     */
    async downloadAsset(companyId: string, assetId: string, destination: DownloadDestination, o: CallOptions = {}): Promise<DownloadResult> {
      const res = await http.send('GET', `${assetPath(companyId, assetId)}/content`, {
        headers: { accept: '*/*' },
        signal: o.signal,
      });
      return writeBody(res, destination);
    },

    async listRenderers(o: CallOptions = {}): Promise<RendererView[]> {
      return (await http.json<{ items: RendererView[] }>('GET', '/api/renderers', o)).items;
    },

    /** The companies this key may see: all of them for an admin (or local_trusted), else its own. */
    async listCompanies(o: CallOptions = {}): Promise<CompanyView[]> {
      return (await http.json<{ items: CompanyView[] }>('GET', '/api/companies', o)).items;
    },

    /** Admin only. */
    createCompany(body: CreateCompanyBody, o: CallOptions = {}): Promise<CompanyView> {
      return http.json('POST', '/api/companies', { body, signal: o.signal });
    },
  };
  return client;
}
