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
  /** Interrupted by Ctrl-C (128 + SIGINT, as shells report it). */
  interrupted: 130,
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

/**
 * A mistake on the command line: printed as `kiln <where>: <message>` with the command's
 * synopsis, exit code 2. `where` names the command as typed (`assets get`); by default the
 * command's name.
 */
export class UsageError extends Error {
  constructor(message: string, readonly command?: CliCommand, readonly where?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Ctrl-C (or SIGTERM) ended the command. `hint` says what was left behind and what to do about
 * it (a job still running on the server, and how to cancel it); exit code 130.
 */
export class InterruptedError extends Error {
  constructor(readonly hint?: string) {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}
