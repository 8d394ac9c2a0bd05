import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import { McpOAuthError, NeedsReauthError } from '../errors.js';
import { type Logger, redactText } from '../logger.js';
import type { OAuthManager } from '../manager/oauth-manager.js';
import { type ProxyTransport, RemoteLink } from './stdio-proxy-remote.js';
import { openHostLink } from './stdio-proxy-stdio.js';

/** The JSON-RPC error code of a request the proxy could not deliver because a login is needed. */
export const PROXY_NEEDS_LOGIN = -32001;
/** The JSON-RPC error code of a request the proxy could not deliver for another reason. */
export const PROXY_UNREACHABLE = -32000;

/** How often the proxy checks that the process that started it is still there. */
const PARENT_CHECK_MS = 1000;

export interface StdioProxyOptions {
  manager: OAuthManager;
  /** The server's name in the manager (config.yaml's, or the derived one). */
  server: string;
  url: URL;
  oauth?: OAuthConfig;
  transport?: ProxyTransport;
  headers?: Record<string, string>;
  logger: Logger;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  /**
   * The login command for this server as the person should type it (`mcp-oauth login NAME`, or
   * the npx form); every error the host gets for a missing login names it.
   */
  loginCommand: string;
}

/**
 * Relays MCP between a host on stdio and the remote server `server`, message by message at the
 * JSON-RPC level: requests, responses, notifications, the server's own requests (sampling,
 * elicitation, roots) and the host's answers, progress and cancellation all pass unchanged, and so
 * does anything this proxy does not know. The remote side is the manager's: one credential per
 * server shared with every other process on the store (see RemoteLink). A request the proxy
 * cannot deliver gets a JSON-RPC error answer with the same id (PROXY_NEEDS_LOGIN with the login
 * command, else PROXY_UNREACHABLE), so the host never waits for an answer that will not come.
 *
 * Resolves when the host closes stdin (or dies: its end of the pipe closes with it; the parent
 * process is also watched). Nothing but protocol messages is written to `stdout`.
 */
export async function runStdioProxy(options: StdioProxyOptions): Promise<void> {
  const { manager, server, url, logger } = options;
  const provider = manager.getOrBuildProvider(server, url, options.oauth ?? {});
  const pending = new Set<RequestId>();
  let host: ReturnType<typeof openHostLink> | undefined;
  const remote = new RemoteLink({
    manager,
    server,
    url,
    provider,
    transport: options.transport ?? 'auto',
    headers: options.headers ?? {},
    logger,
    onMessage(message) {
      if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined)
        pending.delete(message.id);
      host?.write(message);
    },
  });

  // Notifications keep their order relative to what follows them (`initialized` before the first
  // call, a cancellation after its request); requests go out at once, concurrently.
  let gate: Promise<unknown> = Promise.resolve();
  const relay = (message: JSONRPCMessage) => {
    const sent = gate.then(() => remote.send(message));
    if (isJSONRPCNotification(message)) gate = sent.catch(() => {});
    if (isJSONRPCRequest(message)) pending.add(message.id);
    sent.catch((error: unknown) => {
      if (isJSONRPCRequest(message)) {
        if (!pending.delete(message.id)) return; // answered meanwhile (e.g. an error response)
        host?.write({ jsonrpc: '2.0', id: message.id, error: errorFor(error, server, options.loginCommand) });
      }
      logger.warn(`could not deliver ${describe(message)} to '${server}': ${(error as Error).message}`);
    });
  };

  host = openHostLink(options.stdin ?? process.stdin, options.stdout ?? process.stdout, relay, (error) =>
    logger.warn(`ignored a line from the host that is not JSON-RPC: ${error.message}`),
  );

  const parent = process.ppid;
  let parentGone: () => void = () => {};
  const orphaned = new Promise<void>((resolve) => {
    parentGone = resolve;
  });
  const watch = setInterval(() => {
    if (process.ppid !== parent) parentGone();
  }, PARENT_CHECK_MS);
  watch.unref();
  try {
    await Promise.race([host.ended, orphaned]);
  } finally {
    clearInterval(watch);
    await remote.close();
  }
}

/** The JSON-RPC error the host gets for a request the proxy could not deliver. */
function errorFor(
  error: unknown,
  server: string,
  loginCommand: string,
): { code: number; message: string; data?: unknown } {
  if (error instanceof NeedsReauthError) {
    return {
      code: PROXY_NEEDS_LOGIN,
      message: `MCP server '${server}' needs a login (${error.reason}). Run: ${loginCommand}`,
      data: { code: error.code, command: loginCommand },
    };
  }
  if (error instanceof McpOAuthError) {
    return {
      code: error.code === 'LOGIN_FAILED' ? PROXY_NEEDS_LOGIN : PROXY_UNREACHABLE,
      message: `${error.message} To log in: ${loginCommand}`,
      data: { code: error.code, command: loginCommand },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: PROXY_UNREACHABLE,
    message: redactText(`MCP server '${server}' could not be reached: ${message}`),
  };
}

function describe(message: JSONRPCMessage): string {
  const method = (message as { method?: unknown }).method;
  return typeof method === 'string' ? `'${method}'` : 'a response';
}
