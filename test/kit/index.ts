import {
  type AuthorizationServerOptions,
  startAuthorizationServer,
  type TestAuthorizationServer,
} from './authorization-server.js';
import { type McpTestServerOptions, startMcpServer, type TestMcpServer } from './mcp-server.js';

export * from './authorization-server.js';
export * from './fault-proxy.js';
export * from './identity-provider.js';
export * from './jwt-bearer-grant.js';
export * from './mcp-server.js';
export * from './scripted-browser.js';
export * from './workload-issuer.js';

export interface TestbedOptions {
  as?: AuthorizationServerOptions;
  mcp?: Omit<McpTestServerOptions, 'authorizationServer'>;
}

export interface Testbed {
  as: TestAuthorizationServer;
  mcp: TestMcpServer;
  close(): Promise<void>;
}

/** A real authorization server and an MCP server that trusts it. */
export async function startTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const as = await startAuthorizationServer(options.as);
  let mcp: TestMcpServer;
  try {
    mcp = await startMcpServer({ ...options.mcp, authorizationServer: as.issuer });
  } catch (error) {
    await as.close();
    throw error;
  }
  return {
    as,
    mcp,
    async close() {
      await mcp.close();
      await as.close();
    },
  };
}
export * from './device-approval.js';
