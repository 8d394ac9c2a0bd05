/**
 * A host still on the v1 SDK (@modelcontextprotocol/sdk 1.x). The transport gets the provider's
 * fetch, not an authProvider: the fetch injects the token and routes 401s through the manager's
 * single refresh transaction (a v1 authProvider would refresh on its own, outside it).
 *   npx tsx examples/v1-host.ts <server-name> <url>
 * In your project: import { createV1StreamableHttpTransport } from 'mcp-oauth-manager/sdk-v1';
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getManager } from '../src/index.js';
import { createV1StreamableHttpTransport } from '../src/sdk/v1.js';

const [name = 'demo', url = 'http://127.0.0.1:3000/mcp'] = process.argv.slice(2);
const manager = getManager({ interactive: 'auto' });
const provider = manager.getOrBuildProvider(name, url);

const client = new Client({ name: 'v1-host', version: '1.0.0' });
await client.connect(createV1StreamableHttpTransport(provider, url));
const { tools } = await client.listTools();
console.log(`${name}: ${tools.map((t) => t.name).join(', ')}`);
await client.close();
await manager.close();
