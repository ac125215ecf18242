import type { CliCommand } from '../cli-command.js';
import { serveCommand } from './serve.js';
import { workerCommand } from './worker.js';
import { migrateCommand } from './migrate.js';
import { companiesCommand } from './companies.js';
import { keysCommand } from './keys.js';
import { submitCommand } from './submit.js';
import { watchCommand } from './watch.js';
import { jobsCommand } from './jobs.js';
import { assetsCommand } from './assets.js';
import { renderersCommand } from './renderers.js';
import { versionCommand } from './version.js';
import { mcpCommand } from './mcp.js';

/** Server side (config from KILN_* / DATABASE_URL): run Kiln or change its database directly. */
export const SERVER_COMMANDS: readonly CliCommand[] = [serveCommand, workerCommand, migrateCommand, companiesCommand, keysCommand];

/** Client side (KILN_URL, KILN_API_KEY, KILN_COMPANY_ID): go through the HTTP API with @kiln/client. */
export const CLIENT_COMMANDS: readonly CliCommand[] = [submitCommand, watchCommand, jobsCommand, assetsCommand, renderersCommand, mcpCommand];

/** Neither: about the CLI itself. */
export const OTHER_COMMANDS: readonly CliCommand[] = [versionCommand];

export const ALL_COMMANDS: readonly CliCommand[] = [...SERVER_COMMANDS, ...CLIENT_COMMANDS, ...OTHER_COMMANDS];

export function findCommand(name: string): CliCommand | undefined {
  return ALL_COMMANDS.find((c) => c.name === name);
}

/** Ctrl-C while a client command waits aborts its request or stream, so the terminal is left tidy. */
export function abortsOnSignal(command: CliCommand): boolean {
  return CLIENT_COMMANDS.includes(command);
}
