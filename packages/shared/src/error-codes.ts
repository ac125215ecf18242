/**
 * The registry of stable error codes. A code, once published, keeps its meaning and status;
 * clients branch on `code`, never on `message`.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, message: 'The request is not valid.' },
  bad_request: { status: 400, message: 'The request is malformed.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  unknown_kind: { status: 400, message: 'No renderer handles this kind.' },
  webhook_url_forbidden: { status: 400, message: 'webhookUrl must point to a public address this server may send to.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  headers_too_large: { status: 431, message: 'The request line and headers are too large.' },
  request_timeout: { status: 408, message: 'The request did not arrive in time.' },
  unauthorized: { status: 401, message: 'A valid API key is required.' },
  forbidden: { status: 403, message: 'This key may not do that.' },
  not_found: { status: 404, message: 'Not found.' },
  company_not_found: { status: 404, message: 'Company not found.' },
  job_not_found: { status: 404, message: 'Content job not found.' },
  asset_not_found: { status: 404, message: 'Asset not found.' },
  webhook_delivery_not_found: { status: 404, message: 'Webhook delivery not found.' },
  idempotency_conflict: { status: 409, message: 'This Idempotency-Key was used with a different request.' },
  job_not_cancelable: { status: 409, message: 'The job has already ended.' },
  range_not_satisfiable: { status: 416, message: 'The requested range is not satisfiable.' },
  rate_limited: { status: 429, message: 'Too many requests; slow down and retry after the time in Retry-After.' },
  queue_full: { status: 429, message: 'This company has as many queued jobs as it may have; retry when some have run.' },
  internal_error: { status: 500, message: 'Internal error.' },
  not_ready: { status: 503, message: 'The service is not ready.' },
  database_unavailable: { status: 503, message: 'The database cannot be reached right now; retry shortly.' },
  database_busy: { status: 503, message: 'Every database connection is busy; retry shortly.' },
  server_busy: { status: 503, message: 'The server is busy; retry shortly.' },
  // Job failure codes (stored on the job, not HTTP responses).
  render_failed: { status: 500, message: 'The renderer failed.' },
  timeout: { status: 500, message: 'The job ran longer than its timeout.' },
  worker_lost: { status: 500, message: 'The worker running the job stopped.' },
  asset_too_large: { status: 500, message: 'The output exceeded the size limit.' },
  canceled: { status: 500, message: 'The job was canceled.' },
  render_crashed: { status: 500, message: 'The render process crashed (twice) on this input.' },
  // Failures of provider kinds (ai-image, ai-speech, ai-video), from the model API's answer.
  provider_rejected: { status: 500, message: 'The model provider refused the request (bad input, unknown model, content policy); not retried.' },
  provider_auth_failed: { status: 500, message: 'The model provider refused Kiln\'s API key (401/403); the operator must fix the key. Not retried.' },
  provider_rate_limited: { status: 500, message: 'The model provider asked Kiln to slow down (429); retried after its Retry-After without spending an attempt.' },
  provider_error: { status: 500, message: 'The model provider failed or answered something unreadable (5xx, network error, malformed answer); retried.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
