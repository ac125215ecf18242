import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ResultContext } from './job-tool-result.js';

/** What a tool handler gets from the connection it serves. */
export interface ToolContext extends ResultContext {
  /** The company a call acts for: the one it names, else the connection's. */
  companyFor(requested: string | undefined): Promise<string>;
  /** Origins (`scheme://host:port`) this Kiln is reached under; upload_asset copies only their asset URLs. */
  ownOrigins: readonly string[];
}

/** One tools/call as a handler sees it. */
export interface ToolCall {
  args: Record<string, unknown>;
  /** Fires when the client cancels the call or the connection closes. */
  signal: AbortSignal;
  /** True when the client canceled this call (notifications/cancelled), not when the connection closed. */
  canceledByClient(): boolean;
  /** A progress notification, when the call carried a progressToken; `fraction` only ever rises. */
  progress(fraction: number, message?: string): void;
}

export interface ToolHandler {
  tool: Tool;
  run(call: ToolCall, ctx: ToolContext): Promise<CallToolResult>;
}
