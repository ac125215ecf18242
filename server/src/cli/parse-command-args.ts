import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CliCommand } from './cli-command.js';
import { closestName } from './closest-name.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandLine {
  /**
   * The positional arguments as the usage writes them: `<name>` required, `[name]` optional,
   * a trailing `...` (`<name...>`) for any number more. A missing one is named in the error.
   */
  positionals?: readonly string[];
  /** The command as typed, for messages: `assets get` (default: the command's name). */
  where?: string;
}

/**
 * `util.parseArgs` in strict mode, with its errors turned into UsageError (exit code 2): an
 * unknown option suggests the nearest known one, a missing argument is named, an extra one shown.
 */
export function parseCommandArgs<O extends Options>(command: CliCommand, args: string[], options: O, line: CommandLine = {}) {
  const where = line.where ?? command.name;
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const unknown = findUnknownOption(args, options);
    if (unknown) throw new UsageError(describeUnknownOption(unknown, options), command, where);
    throw new UsageError((err as Error).message.split('\n')[0]!, command, where);
  }
  const names = line.positionals ?? [];
  const variadic = names.at(-1)?.endsWith('...]') || names.at(-1)?.endsWith('...>');
  const required = names.filter((n) => n.startsWith('<'));
  const count = parsed.positionals.length;
  if (count < required.length) throw new UsageError(`missing ${required[count]!.replace('...', '')}`, command, where);
  if (!variadic && count > names.length) throw new UsageError(`unexpected argument: ${parsed.positionals[names.length]}`, command, where);
  return parsed;
}

/**
 * The first option on the line that the command does not know, as typed (`--wiat`). Found with a
 * lenient parse of the same line, whose tokens keep the raw names; parseArgs's own message is
 * prose meant for humans, not something to parse.
 */
function findUnknownOption(args: string[], options: Options): string | undefined {
  try {
    const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
    for (const t of tokens) if (t.kind === 'option' && !Object.hasOwn(options, t.name)) return t.rawName;
    return undefined;
  } catch {
    return undefined;
  }
}

function describeUnknownOption(raw: string, options: Options): string {
  const known = [...Object.keys(options), 'help'];
  const suggestion = closestName(raw.replace(/^-+/, ''), known);
  return `unknown option ${raw}${suggestion ? `; did you mean --${suggestion}?` : ''}`;
}

/** A whole number within bounds, or a UsageError naming the flag. */
export function intFlag(command: CliCommand, name: string, raw: string | undefined, min: number, max: number, where?: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`, command, where);
  return n;
}

/** Splits `[sub, ...rest]` for commands with subcommands (`jobs ls`, `keys create`). */
export function subcommand<S extends string>(command: CliCommand, args: string[], known: readonly S[]): [S, string[]] {
  const [sub, ...rest] = args;
  if (!sub) throw new UsageError(`missing subcommand: ${known.join(' | ')}`, command);
  if (!(known as readonly string[]).includes(sub)) {
    const suggestion = closestName(sub, known);
    throw new UsageError(`unknown subcommand ${sub}${suggestion ? `; did you mean kiln ${command.name} ${suggestion}?` : ` (${known.join(' | ')})`}`, command);
  }
  return [sub as S, rest];
}
