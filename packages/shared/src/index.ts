export * from './job-status.js';
export * from './events.js';
export * from './limits.js';
export * from './error-codes.js';
export * from './api-schemas.js';
export * from './renderer-inputs/index.js';
export * from './api-response-schemas.js';
export * from './caps.js';
