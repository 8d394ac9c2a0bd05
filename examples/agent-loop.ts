/**
 * An agent-style loop: every configured server, its tools, and which ones need a login first.
 * Never opens a browser (a background agent cannot); it tells the person what to run instead.
 *   MCP_OAUTH_HOME=~/.mcp-oauth npx tsx examples/agent-loop.ts
 */
import { connect, loadConfig, NeedsReauthError, OAuthManager } from '../src/index.js';

const manager = new OAuthManager({ interactive: 'never' });
const { servers } = await loadConfig(manager.home!);
const needLogin: string[] = [];

for (const [name, server] of servers) {
  try {
    const client = await connect(name, { manager, url: server.url, oauth: server.oauth });
    const { tools } = await client.listTools();
    console.log(`✓ ${name}: ${tools.map((t) => t.name).join(', ')}`);
    await client.close();
  } catch (error) {
    if (!(error instanceof NeedsReauthError)) {
      console.log(`✗ ${name}: ${(error as Error).message}`);
      continue;
    }
    console.log(`! ${name}: needs a login`);
    needLogin.push(error.command);
  }
}
if (needLogin.length > 0) console.log(`\nTo log in:\n${needLogin.map((c) => `  ${c}`).join('\n')}`);
await manager.close();
