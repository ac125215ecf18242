import { KilnApiError } from '@kiln/client';
import { ConfigError } from '../config.js';
import { EXIT, InterruptedError, UsageError, type CliCommand, type CliIo } from './cli-command.js';
import { closestName } from './closest-name.js';
import { ALL_COMMANDS, CLIENT_COMMANDS, OTHER_COMMANDS, SERVER_COMMANDS, abortsOnSignal, findCommand } from './commands/index.js';

const list = (commands: readonly CliCommand[]) => commands.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n');

const USAGE = `kiln — content jobs for agent platforms

Usage: kiln <command> [options]      kiln help <command> | kiln <command> --help

Run and administer Kiln (config: KILN_PORT, KILN_HOST, KILN_DATA_DIR, DATABASE_URL, …):
${list(SERVER_COMMANDS)}

Use a running Kiln through its API (KILN_URL, default http://127.0.0.1:3100; KILN_API_KEY;
KILN_COMPANY_ID, else the first company the API lists):
${list(CLIENT_COMMANDS)}

${list(OTHER_COMMANDS)}

Exit codes: 0 ok / job done, 1 job failed or error, 2 usage error, 3 job canceled, 130 interrupted.
See README.md.`;

/** `--help`/`-h` anywhere before a `--` asks for the command's usage instead of running it. */
const wantsHelp = (args: string[]) => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    io.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    if (!rest[0]) {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    io.stdout.write(`${requireCommand(rest[0]).usage}\n`);
    return EXIT.ok;
  }
  const command = requireCommand(name === '--version' ? 'version' : name);
  if (wantsHelp(rest)) {
    io.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  if (abortsOnSignal(command)) abortOnSignals();
  return command.run(rest, io);
}

function requireCommand(name: string): CliCommand {
  const command = findCommand(name);
  if (command) return command;
  const suggestion = closestName(name.replace(/^-+/, ''), ALL_COMMANDS.map((c) => c.name));
  throw new UsageError(`unknown command: ${name}${suggestion ? `; did you mean kiln ${suggestion}?` : ''}`);
}

const interrupt = new AbortController();

/** First SIGINT/SIGTERM aborts the command's request or stream; a second one exits at once. */
function abortOnSignals() {
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(new DOMException('Interrupted', 'AbortError'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function report(err: unknown, io: CliIo): number {
  if (err instanceof InterruptedError || interrupt.signal.aborted) {
    const hint = err instanceof InterruptedError ? err.hint : undefined;
    io.stderr.write(`kiln: interrupted${hint ? ` — ${hint}` : ''}\n`);
    return EXIT.interrupted;
  }
  if (err instanceof UsageError) {
    const where = err.where ?? err.command?.name;
    io.stderr.write(`kiln${where ? ` ${where}` : ''}: ${err.message}\n\n`);
    io.stderr.write(err.command ? `${synopsis(err.command.usage)}\nMore: kiln help ${err.command.name}\n` : 'Commands: kiln help\n');
    return EXIT.usage;
  }
  if (err instanceof ConfigError) {
    io.stderr.write(`${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof KilnApiError) {
    const lines = [`kiln: ${err.message} (${err.code}${err.status ? `, HTTP ${err.status}` : ''})`];
    if (Array.isArray(err.details)) {
      for (const d of err.details as { path?: unknown[]; message?: string }[]) lines.push(`  ${(d.path ?? []).join('.') || '(body)'}: ${d.message ?? JSON.stringify(d)}`);
    } else if (err.details !== undefined) lines.push(`  ${JSON.stringify(err.details)}`);
    io.stderr.write(`${lines.join('\n')}\n`);
    return EXIT.failed;
  }
  io.stderr.write(`kiln: ${(err as Error)?.message ?? String(err)}\n`);
  return EXIT.failed;
}

/** The usage's first paragraph (its `Usage:` lines): enough to fix a mistyped line, short enough to see the error above it. */
const synopsis = (usage: string) => usage.split(/\n\s*\n/)[0]!;

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: interrupt.signal };

main(process.argv.slice(2), io)
  .catch((err) => report(err, io))
  // Flush stdout before exiting: a pipe reader must get every JSON line.
  .then((code) => {
    process.stdout.write('', () => process.exit(code));
    // A closed pipe may never call back; don't hang on it.
    setTimeout(() => process.exit(code), 2000).unref();
  });
