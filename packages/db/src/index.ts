export * as schema from './schema/index.js';
export * from './schema/index.js';
export * from './database.js';
export * from './migrate.js';
export * from './embedded-postgres.js';
