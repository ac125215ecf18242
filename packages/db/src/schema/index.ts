export * from './companies.js';
export * from './api-keys.js';
export * from './content-jobs.js';
export * from './content-job-events.js';
export * from './assets.js';
export * from './webhook-deliveries.js';
