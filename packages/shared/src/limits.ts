/** Defaults shared by server, client and UI. Config may override the server-side ones. */
export const DEFAULT_MAX_GENERATED_ASSET_BYTES = 500 * 1024 * 1024;
export const DEFAULT_JOB_TIMEOUT_MS = 10 * 60 * 1000;
export const MAX_JOB_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_MAX_CONCURRENT_JOBS = 4;
/** Queued jobs a company may have before submits answer 429 queue_full (column max_queued_jobs). */
export const DEFAULT_MAX_QUEUED_JOBS = 10_000;
export const MAX_QUEUED_JOBS_LIMIT = 1_000_000;
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 200;
/** Largest JSON request body the API accepts (inline SVG, Markdown and chart data live here). */
export const MAX_REQUEST_BODY_BYTES = 5 * 1024 * 1024;

/**
 * The largest raster any renderer draws: a side in pixels, and pixels in all. A 40 MP RGBA
 * raster is 160 MB before encoding, which is as much memory as one job should take.
 */
export const MAX_RASTER_SIDE = 16_384;
export const MAX_RASTER_PIXELS = 40_000_000;
