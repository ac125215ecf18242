import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createKilnClient } from '@kiln/client';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { AppDeps } from '../app-deps.js';
import { KilnError, retryLater } from '../errors.js';
import { connectKilnMcp } from '../mcp/kiln-mcp-server.js';
import { createMcpSessionRegistry, type McpSessionLimits } from '../mcp/mcp-http-sessions.js';

/**
 * `/mcp`: Kiln's tools over MCP streamable HTTP (POST messages, GET the server's stream, DELETE
 * the session). A private route like any other: in `authenticated` mode it needs a Bearer key,
 * and every tool call goes through the HTTP API *as that key* — the session's client talks to
 * this same process on its loopback address and forwards the key — so a company key reaches
 * its own company only, by the same checks as every route.
 *
 * Sessions are stateful (kept in this process): a tool call waits for its job while progress
 * notifications flow back, and the client's `notifications/cancelled` for that call arrives as
 * a separate POST, which must find the call to cancel its job. Stateless mode would give each
 * POST a fresh server that knows nothing of the call in flight.
 */
export function mcpRoutes(deps: AppDeps, limits?: McpSessionLimits) {
  return async (app: FastifyInstance) => {
    const sessions = createMcpSessionRegistry(limits);
    app.addHook('onClose', async () => sessions.closeAll());

    async function handle(request: FastifyRequest, reply: FastifyReply) {
      assertAllowedOrigin(request, deps.config.publicUrl);
      const keyId = request.principal.keyId;
      const sessionId = request.headers['mcp-session-id'];
      let session;
      if (typeof sessionId === 'string') {
        session = sessions.get(sessionId, keyId);
        // An unknown session and another key's session look the same: start a new one.
        if (!session) return reply.code(404).send(jsonRpcError(-32001, 'Session not found (it ended, or was opened with another key): send initialize without Mcp-Session-Id to start a new one.'));
      } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
        session = sessions.open(keyId);
        if (!session) throw retryLater('server_busy', 5, 'This server has as many MCP sessions as it keeps; retry shortly.');
        session.connection = await connectKilnMcp(session.transport, sessionOptions(request));
      } else {
        return reply.code(400).send(jsonRpcError(-32000, 'Bad Request: start with initialize (POST without Mcp-Session-Id), then send the Mcp-Session-Id it returns with every request.'));
      }
      // Fastify already read and checked the JSON body; the transport takes it as parsed.
      return session.transport.handleRequest(webRequest(request), { parsedBody: request.body });
    }

    function sessionOptions(request: FastifyRequest) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const client = createKilnClient({
        baseUrl: ownLoopbackUrl(app),
        apiKey: deps.config.deploymentMode === 'authenticated' ? bearer : undefined,
      });
      const principal = request.principal;
      const host = `${request.protocol}://${request.headers.host ?? 'localhost'}`;
      const publicBaseUrl = deps.config.publicUrl ?? host;
      return {
        client,
        // A company key works in its company; an admin key or local_trusted in the default one.
        defaultCompany: async () => {
          if (principal.kind === 'company') return principal.companyId;
          if (deps.defaultCompanyId) return deps.defaultCompanyId;
          const [first] = await client.listCompanies();
          if (!first) throw KilnError.of('company_not_found', 'There is no company yet; create one first.');
          return first.id;
        },
        publicBaseUrl,
        ownOrigins: [...new Set([origin(publicBaseUrl), origin(host), origin(client.baseUrl)].filter((o): o is string => o !== null))],
        log: (line: string) => request.log.warn(line),
      };
    }

    for (const method of ['POST', 'GET', 'DELETE'] as const) app.route({ method, url: '/mcp', handler: handle });
  };
}

const jsonRpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

const origin = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

/**
 * The MCP specification: servers must validate Origin (DNS rebinding). A browser page may drive
 * /mcp only from this server's own origin (or KILN_PUBLIC_URL's); clients that send no Origin
 * (every non-browser client) are not affected. local_trusted refuses foreign origins for every
 * route already; this applies the same rule in authenticated mode.
 */
function assertAllowedOrigin(request: FastifyRequest, publicUrl: string | undefined) {
  const value = request.headers.origin;
  if (value === undefined) return;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  const host = (request.headers.host ?? '').toLowerCase();
  const allowed = url !== null && (url.host.toLowerCase() === host || (publicUrl !== undefined && url.origin === origin(publicUrl)));
  if (!allowed) throw KilnError.of('forbidden', `MCP requests from other origins (${String(value).slice(0, 100)}) are refused.`);
}

/** This process's own address, as a loopback URL when it listens on every interface. */
function ownLoopbackUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the API is not listening on a TCP port');
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'host']);

/** The request as the SDK's web-standard transport takes it: method, URL and headers (the body is passed parsed). */
function webRequest(request: FastifyRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [String(value)]) headers.append(name, v);
  }
  return new Request(new URL(request.url, 'http://localhost'), { method: request.method, headers });
}
