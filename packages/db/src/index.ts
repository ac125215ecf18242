export * from './database.js';
export * from './migrate.js';
export * from './embedded-postgres.js';
