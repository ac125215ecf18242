import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { EXIT, type CliCommand } from '../cli-command.js';
import { clientFromEnv, loadClientEnv, resolveCompany } from '../client-env.js';
import { parseCommandArgs } from '../parse-command-args.js';
import { connectKilnMcp } from '../../mcp/kiln-mcp-server.js';
import { MAX_INLINE_UPLOAD_BYTES } from '../../mcp/job-and-asset-tools.js';

export const mcpCommand: CliCommand = {
  name: 'mcp',
  summary: 'serve Kiln as MCP tools over stdio (for agents and desktop MCP clients)',
  usage: `Usage: kiln mcp [--company ID]

Speaks the Model Context Protocol on stdin/stdout, as a client of a running Kiln: every tool call
goes through its HTTP API with KILN_API_KEY. Nothing but protocol messages is written to stdout;
diagnostics go to stderr. Ends when stdin closes.

Tools: one per renderer kind (generate_image, render_chart, render_document, synthesize_speech,
render_video, and render_<kind> for any other kind the server has), each creating a job and
waiting for it with progress notifications; get_job, list_jobs, cancel_job, upload_asset,
list_assets. Resources: kiln://assets/<id>.

Options:
  --company ID            company (default: KILN_COMPANY_ID, else the first company the API lists)

Server: KILN_URL (default http://127.0.0.1:3100), KILN_API_KEY.
Over HTTP instead, the same tools are at <KILN_URL>/mcp (streamable HTTP).`,
  async run(args, io) {
    const { values } = parseCommandArgs(mcpCommand, args, { company: { type: 'string' } });
    const env = loadClientEnv(io.env);
    const client = clientFromEnv(env);
    const log = (line: string) => io.stderr.write(`kiln mcp: ${line}\n`);
    // A base64 upload arrives as one line; leave room for the JSON around it.
    const transport = new StdioServerTransport(io.stdin, io.stdout, { maxBufferSize: Math.ceil(MAX_INLINE_UPLOAD_BYTES * 1.4) + 1024 * 1024 });
    const ended = new Promise<void>((resolve) => {
      transport.onclose = resolve;
    });
    const { server } = await connectKilnMcp(transport, {
      client,
      defaultCompany: () => resolveCompany(client, env, values.company),
      publicBaseUrl: env.url,
      ownOrigins: [new URL(env.url).origin],
      log,
    });
    // The client closes stdin to end the session; Ctrl-C / SIGTERM end it too.
    io.stdin.once('end', () => void server.close());
    io.signal.addEventListener('abort', () => void server.close(), { once: true });
    log(`serving ${env.url} over stdio`);
    await ended;
    return EXIT.ok;
  },
};
