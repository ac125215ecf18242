import type { Readable, Writable } from 'node:stream';

/** Exit codes of every `kiln` command; scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** The job failed, or the command could not do its work (server error, unreachable server). */
  failed: 1,
  /** The command line was wrong: unknown command or flag, missing argument, unreadable input. */
  usage: 2,
  /** The job was canceled. */
  canceled: 3,
} as const;

/** A stream the CLI writes to; `isTTY` decides between a live progress bar and JSON lines. */
export type CliOutput = Writable & { isTTY?: boolean; columns?: number };

/** What a command may touch: passed in, so nothing below main.ts reads `process` itself. */
export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  stdin: Readable;
  env: Record<string, string | undefined>;
  /** Fires on SIGINT/SIGTERM for commands that follow a job (serve and worker install their own handlers). */
  signal: AbortSignal;
}

export interface CliCommand {
  name: string;
  /** One line for `kiln help`. */
  summary: string;
  /** The full text for `kiln help <name>` and `kiln <name> --help`. */
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** A mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: CliCommand) {
    super(message);
    this.name = 'UsageError';
  }
}
