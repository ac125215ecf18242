import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { KilnMcpConnection } from './kiln-mcp-server.js';

export interface McpSession {
  id: string;
  /** The API key that opened the session (null in local_trusted mode); only it may use the session. */
  keyId: string | null;
  transport: WebStandardStreamableHTTPServerTransport;
  connection: KilnMcpConnection | null;
  lastSeen: number;
}

export interface McpSessionLimits {
  /** Sessions one process keeps; past it a new one is refused (503) unless an idle one can go. */
  maxSessions: number;
  /** Sessions one key keeps; opening one more closes that key's least recently used. */
  maxPerKey: number;
  /** A session without requests or running tool calls for this long is closed. */
  idleMs: number;
}

export const DEFAULT_MCP_SESSION_LIMITS: McpSessionLimits = { maxSessions: 1000, maxPerKey: 32, idleMs: 30 * 60_000 };

/**
 * The streamable HTTP sessions of one API process, in memory: a session is an MCP server
 * connection whose tool calls are in flight here, so a cancellation or a later request of the
 * same session must reach this process (behind a load balancer: route by `Mcp-Session-Id`).
 * Bounded in count (per process and per key) and closed when idle.
 */
export function createMcpSessionRegistry(limits: McpSessionLimits = DEFAULT_MCP_SESSION_LIMITS) {
  const sessions = new Map<string, McpSession>();

  const close = (s: McpSession) => {
    sessions.delete(s.id);
    s.transport.close().catch(() => {});
  };
  const idle = (s: McpSession, now: number) => now - s.lastSeen > limits.idleMs && (s.connection?.activeCalls() ?? 0) === 0;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const s of sessions.values()) if (idle(s, now)) close(s);
  }, Math.min(60_000, limits.idleMs));
  sweep.unref();

  return {
    /** The session, if it exists and belongs to this key; otherwise null (answered 404 either way). */
    get(id: string, keyId: string | null): McpSession | null {
      const s = sessions.get(id);
      if (!s || s.keyId !== keyId) return null;
      s.lastSeen = Date.now();
      return s;
    },

    /**
     * A transport for a new session (the caller connects a server to it and hands it the
     * initialize request). It is registered when the SDK assigns the session id, and removed
     * when it closes (DELETE, idle, shutdown). Null when the process is full.
     */
    open(keyId: string | null): McpSession | null {
      const mine = [...sessions.values()].filter((s) => s.keyId === keyId).sort((a, b) => a.lastSeen - b.lastSeen);
      if (mine.length >= limits.maxPerKey) close(mine[0]!);
      if (sessions.size >= limits.maxSessions) {
        const now = Date.now();
        const oldestIdle = [...sessions.values()].filter((s) => (s.connection?.activeCalls() ?? 0) === 0).sort((a, b) => a.lastSeen - b.lastSeen)[0];
        if (!oldestIdle || now - oldestIdle.lastSeen < 60_000) return null;
        close(oldestIdle);
      }
      const session: McpSession = { id: '', keyId, connection: null, lastSeen: Date.now(), transport: null as never };
      session.transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          session.id = id;
          sessions.set(id, session);
        },
      });
      session.transport.onclose = () => {
        if (sessions.get(session.id) === session) sessions.delete(session.id);
      };
      return session;
    },

    size: () => sessions.size,

    closeAll() {
      clearInterval(sweep);
      for (const s of [...sessions.values()]) close(s);
    },
  };
}

export type McpSessionRegistry = ReturnType<typeof createMcpSessionRegistry>;
