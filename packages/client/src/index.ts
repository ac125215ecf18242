export { createKilnClient } from './kiln-client.js';
export type {
  KilnClient,
  KilnClientOptions,
  CallOptions,
  CreateJobOptions,
  CreateAndWaitOptions,
  UploadOptions,
  UploadSource,
  ListJobsFilter,
  ListAssetsFilter,
  EventsOptions,
  JobSnapshot,
  CompanySnapshot,
  JobStreamItem,
  CompanyStreamItem,
  WaitForJobOptions,
} from './kiln-client.js';
export { KilnApiError, type ClientErrorCode } from './kiln-api-error.js';
export type { ReconnectOptions } from './resumable-event-stream.js';
export type { DownloadDestination, DownloadResult, NodeWritableLike } from './download-asset.js';
export type { FetchLike } from './http-transport.js';
export { parseSse, type SseMessage } from './sse-parser.js';
