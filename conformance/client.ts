/**
 * The client the official MCP conformance suite runs (`conformance client --command ...`): built
 * on this project's manager and connect(), not on the SDK's own auth flow. The suite appends the
 * MCP server URL as the last argument and names the scenario in MCP_CONFORMANCE_SCENARIO (with
 * data, such as pre-registered credentials, in MCP_CONFORMANCE_CONTEXT). Authorization is
 * headless through the same browser hook users have: the `BROWSER` command (conformance/browser.mjs).
 * Each run gets a fresh home folder (the suite starts scenarios in parallel).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type OAuthConfig, OAuthManager } from '../src/index.js';

/** The Client ID Metadata Document URL the suite's CIMD scenario expects. */
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';

const serverUrl = process.argv.at(-1);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as {
  client_id?: string;
  client_secret?: string;
};

async function main(): Promise<void> {
  if (!serverUrl) throw new Error('usage: client.js <mcp-server-url>');
  const browser = fileURLToPath(new URL('../../conformance/browser.mjs', import.meta.url));
  process.env.BROWSER ??= `${process.execPath} ${browser}`;
  const parent = await mkdtemp(join(tmpdir(), 'mcp-oauth-conformance-'));
  const manager = new OAuthManager({ home: join(parent, 'home'), interactive: 'always' });
  const oauth: OAuthConfig = { clientMetadataUrl: CIMD_URL, timeoutSeconds: 20 };
  if (context.client_id) oauth.clientId = context.client_id;
  if (context.client_secret) oauth.clientSecret = context.client_secret;
  try {
    const client = await connect('conformance', {
      manager,
      url: serverUrl,
      oauth,
      clientInfo: { name: 'mcp-oauth-manager-conformance', version: '1' },
    });
    const { tools } = await client.listTools();
    if (tools.some((t) => t.name === 'test-tool'))
      await client.callTool({ name: 'test-tool', arguments: {} });
    await client.close();
    console.log(`${scenario}: ok (${tools.length} tools)`);
  } finally {
    await manager.close();
    await rm(parent, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`${scenario}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exit(1);
});
