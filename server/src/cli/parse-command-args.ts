import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CliCommand } from './cli-command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs` in strict mode, with its errors (unknown flag, missing value, extra argument)
 * turned into UsageError so they exit with code 2 and the command's usage.
 */
export function parseCommandArgs<O extends Options>(command: CliCommand, args: string[], options: O, positionals: { min?: number; max?: number } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!, command);
  }
  const count = parsed.positionals.length;
  if (count < (positionals.min ?? 0)) throw new UsageError('missing argument', command);
  if (count > (positionals.max ?? 0)) throw new UsageError(`unexpected argument: ${parsed.positionals[positionals.max ?? 0]}`, command);
  return parsed;
}

/** A whole number within bounds, or a UsageError naming the flag. */
export function intFlag(command: CliCommand, name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`, command);
  return n;
}

/** Splits `[sub, ...rest]` for commands with subcommands (`jobs ls`, `keys create`). */
export function subcommand(command: CliCommand, args: string[], known: readonly string[]): [string, string[]] {
  const [sub, ...rest] = args;
  if (!sub) throw new UsageError(`${command.name} needs a subcommand: ${known.join(' | ')}`, command);
  if (!known.includes(sub)) throw new UsageError(`unknown subcommand: ${command.name} ${sub}`, command);
  return [sub, rest];
}
