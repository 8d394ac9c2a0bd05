/**
 * `npm run kit`: the test kit's servers for trying the CLI by hand. Starts a real authorization
 * server (oidc-provider: dynamic client registration, PKCE, rotating refresh tokens; it signs in a
 * test user and approves every request by itself, so a login needs only a browser to follow its
 * redirects) and a real MCP server (the SDK's, bearer auth) on 127.0.0.1, prints their URLs and
 * the commands to try, and runs until Ctrl-C. Nothing outside a temporary home folder is touched.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAuthorizationServer } from '../test/kit/authorization-server.js';
import { startMcpServer } from '../test/kit/mcp-server.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
// The installed binary when there is one; else the build of this checkout.
const builtCli = join(repo, 'dist/cli/main.js');

async function main(): Promise<void> {
  console.log('Starting the test kit on 127.0.0.1 ...');
  const home = await mkdtemp(join(tmpdir(), 'mcp-oauth-kit-home-'));
  const as = await startAuthorizationServer();
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([mcp.close(), as.close()]);
    await rm(home, { recursive: true, force: true });
    console.log('Test kit stopped; its home folder was removed.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const cli = existsSync(builtCli) ? `node ${builtCli}` : 'npx tsx src/cli/main.ts';
  console.log(`
  authorization server  ${as.issuer}
                        (signs in a test user and approves every request by itself)
  MCP server            ${mcp.url}
                        (tools: echo, whoami, count; every request needs a bearer token from the server above)

Try the CLI in another terminal. A home folder of its own keeps your real one untouched:

  export MCP_OAUTH_HOME=${home}
  alias mcp-oauth='${cli}'      # or use the installed mcp-oauth
  mcp-oauth servers add kit ${mcp.url}
  mcp-oauth login kit           # your browser opens and comes back at once (add --no-browser over SSH)
  mcp-oauth status
  mcp-oauth token kit

Ctrl-C stops the servers and removes that home folder.`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
