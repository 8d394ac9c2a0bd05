/**
 * A minimal host on the MCP SDK v2: one call, one authenticated, self-healing client.
 *   npx tsx examples/v2-host.ts <server-name>     (the server is in $MCP_OAUTH_HOME/config.yaml)
 * In your project: import { connect, getManager, NeedsReauthError } from 'mcp-oauth-manager';
 */
import { connect, getManager, NeedsReauthError } from '../src/index.js';

const name = process.argv[2] ?? 'demo';
const manager = getManager({ interactive: 'auto' }); // opens a browser only for a person at a terminal
manager.on('needs-reauth', ({ command }) => console.error(`login needed: ${command}`));

try {
  const client = await connect(name); // URL and OAuth settings from config.yaml
  const { tools } = await client.listTools();
  console.log(`${name}: ${tools.map((t) => t.name).join(', ')}`);
  await client.close();
} catch (error) {
  if (!(error instanceof NeedsReauthError)) throw error;
  console.error(error.message); // names the exact command, e.g. `mcp-oauth login notion`
  process.exitCode = 3;
} finally {
  await manager.close();
}
