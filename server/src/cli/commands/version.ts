import serverPackage from '../../../package.json' with { type: 'json' };
import { EXIT, type CliCommand } from '../cli-command.js';
import { parseCommandArgs } from '../parse-command-args.js';

/** Kiln's version, as its package says (the same one `GET /api` and the OpenAPI document report). */
export const versionCommand: CliCommand = {
  name: 'version',
  summary: "print Kiln's version (also: kiln --version)",
  usage: `Usage: kiln version      (or: kiln --version)

Prints "kiln <version>".`,
  async run(args, io) {
    parseCommandArgs(versionCommand, args, {});
    io.stdout.write(`kiln ${serverPackage.version}\n`);
    return EXIT.ok;
  },
};
