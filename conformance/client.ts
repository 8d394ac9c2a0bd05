/**
 * The client the official MCP conformance suite runs (`conformance client --command ...`): built
 * on this project's manager and connect(), not on the SDK's own auth flow. The suite appends the
 * MCP server URL as the last argument and names the scenario in MCP_CONFORMANCE_SCENARIO (with
 * data, such as pre-registered credentials or the tool calls to make, in MCP_CONFORMANCE_CONTEXT).
 * Authorization is headless through the same browser hook users have: the `BROWSER` command
 * (conformance/browser.mjs). Each run gets a fresh home folder (the suite starts scenarios in
 * parallel).
 *
 * Every scenario connects the same way (connect() negotiates the wire: 2026-07-28 stateless,
 * 2025 `initialize`, or SSE); what differs is the work done once connected: {@link SCENARIOS}.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ManagedClient, type OAuthConfig, OAuthManager } from '../src/index.js';
import {
  MACHINE_SCENARIOS,
  type MachineContext,
  SERVER_NAME,
  writeMachineConfig,
} from './machine-scenarios.js';

/** The Client ID Metadata Document URL the suite's CIMD scenario expects. */
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';

const serverUrl = process.argv.at(-1);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as MachineContext & {
  client_id?: string;
  client_secret?: string;
  /** http-custom-headers: the exact calls to make (the scenario checks the mirrored headers). */
  toolCalls?: { name: string; arguments?: Record<string, unknown> }[];
};

type Work = (client: ManagedClient) => Promise<void>;

/** Lists the tools and calls `test-tool` when the server has it: what every auth scenario checks. */
const listAndCallTestTool: Work = async (client) => {
  const { tools } = await client.listTools();
  if (tools.some((t) => t.name === 'test-tool')) await client.callTool({ name: 'test-tool', arguments: {} });
};

/** Calls `names` in order (each must be listed: a missing one is a failure of the scenario). */
function callTools(...names: string[]): Work {
  return async (client) => {
    const { tools } = await client.listTools();
    for (const name of names) {
      if (!tools.some((t) => t.name === name)) throw new Error(`the server does not list the tool '${name}'`);
      await client.callTool({ name, arguments: {} });
    }
  };
}

/**
 * What each scenario needs done once connected, where it is more than {@link listAndCallTestTool}
 * (read from the scenario sources of @modelcontextprotocol/conformance 0.2.0-alpha.12).
 */
const SCENARIOS: Record<string, Work> = {
  tools_call: async (client) => {
    await client.listTools();
    await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
  },
  // SEP-1034: the SDK fills in the schema's defaults (capability form.applyDefaults, see main).
  'elicitation-sep1034-client-defaults': callTools('test_client_elicitation_defaults'),
  'elicitation-defaults': callTools('test_client_elicitation_defaults'),
  // SEP-1699: the server closes the call's SSE stream after a priming event; the transport
  // reconnects with GET and Last-Event-ID after the `retry` delay, and the answer comes there.
  'sse-retry': callTools('test_reconnection'),
  // SEP-2322: the SDK answers `input_required` through the elicitation/create handler and retries
  // with the echoed requestState; the unrelated call checks that no state leaks into another call.
  'sep-2322-client-request-state': async (client) => {
    await callTools('test_mrtr_echo_state', 'test_mrtr_unrelated', 'test_mrtr_no_state')(client);
    // The scenario checks that a result without resultType is not retried (it is 'complete');
    // SDK 2.4.0 goes further and rejects it on a 2026-07-28 connection (servers of that revision
    // MUST send resultType). Either way nothing is retried: note the SDK's answer, do not fail.
    try {
      await client.callTool({ name: 'test_mrtr_no_result_type', arguments: {} });
    } catch (error) {
      if (!/resultType/.test(String(error))) throw error;
      console.log(`note: test_mrtr_no_result_type: ${describe(error).split('\n')[0]}`);
    }
  },
  // SEP-2243: the SDK mirrors x-mcp-header parameters into Mcp-Param-* headers; the scenario gives
  // the exact arguments to send.
  'http-custom-headers': async (client) => {
    await client.listTools();
    for (const call of context.toolCalls ?? []) {
      await client.callTool({ name: call.name, arguments: call.arguments ?? {} });
    }
  },
  // SEP-2243: malformed x-mcp-header tools are dropped; the valid one must still be usable.
  'http-invalid-tool-headers': callTools('valid_tool'),
  // SEP-2243: Mcp-Method / Mcp-Name on every kind of request the server offers.
  'http-standard-headers': async (client) => {
    const { tools } = await client.listTools();
    for (const tool of tools) await client.callTool({ name: tool.name, arguments: {} });
    const capabilities = client.getServerCapabilities();
    if (capabilities?.resources) {
      const { resources } = await client.listResources();
      for (const resource of resources) await client.readResource({ uri: resource.uri });
    }
    if (capabilities?.prompts) {
      const { prompts } = await client.listPrompts();
      for (const prompt of prompts) await client.getPrompt({ name: prompt.name });
    }
  },
  // Round-trips the focal tool's inputSchema as received, so the suite can see what was kept.
  'json-schema-2020-12-preservation': async (client) => {
    const { tools } = await client.listTools();
    const focal = tools.find((t) => t.name === 'json_schema_2020_12_tool');
    if (!focal) throw new Error("the server does not list the tool 'json_schema_2020_12_tool'");
    await client.callTool({ name: 'json_schema_echo', arguments: { schema: focal.inputSchema } });
  },
};

/**
 * Scenarios whose server misbehaves on purpose: the right outcome is that the client refuses
 * (an issuer that does not match, a resource of another origin, a scope that is never granted).
 * For them "ok" means "refused"; completing the call would be the failure.
 */
const MUST_REFUSE = new Set([
  'auth/iss-supported-missing',
  'auth/iss-wrong-issuer',
  'auth/iss-unexpected',
  'auth/iss-normalized',
  'auth/metadata-issuer-mismatch',
  'auth/resource-mismatch',
  'auth/scope-retry-limit',
]);

async function main(): Promise<void> {
  if (!serverUrl) throw new Error('usage: client.js <mcp-server-url>');
  const browser = fileURLToPath(new URL('../../conformance/browser.mjs', import.meta.url));
  process.env.BROWSER ??= `${process.execPath} ${browser}`;
  const parent = await mkdtemp(join(tmpdir(), 'mcp-oauth-conformance-'));
  const home = join(parent, 'home');
  // Machine and enterprise scenarios: the server comes from a config.yaml written as a user would.
  const machine = MACHINE_SCENARIOS.has(scenario);
  if (machine) await writeMachineConfig(scenario, context, serverUrl, parent, home);
  const manager = new OAuthManager({ home, interactive: machine ? 'never' : 'always' });
  const oauth: OAuthConfig = { clientMetadataUrl: CIMD_URL, timeoutSeconds: 60 };
  if (context.client_id) oauth.clientId = context.client_id;
  if (context.client_secret) oauth.clientSecret = context.client_secret;
  try {
    const client = await connect(SERVER_NAME, {
      manager,
      ...(machine ? {} : { url: serverUrl, oauth }),
      clientInfo: { name: 'mcp-oauth-manager-conformance', version: '1' },
      clientOptions: { capabilities: { elicitation: { form: { applyDefaults: true } } } },
    });
    // A user who accepts without typing anything: the SDK applies the schema's defaults (SEP-1034);
    // fields without one get a plain value of their type (the MRTR scenario asks for `confirmed`).
    client.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as {
        requestedSchema?: { properties?: Record<string, { type?: string }> };
      };
      const content: Record<string, string | number | boolean> = {};
      for (const [key, property] of Object.entries(params.requestedSchema?.properties ?? {})) {
        if ('default' in property) continue;
        if (property.type === 'boolean') content[key] = true;
      }
      return { action: 'accept', content };
    });
    try {
      await (SCENARIOS[scenario] ?? listAndCallTestTool)(client);
    } finally {
      await client.close();
    }
    if (MUST_REFUSE.has(scenario)) throw new Error('completed although the scenario requires a refusal');
    console.log(`${scenario}: ok`);
  } catch (error) {
    // A network failure is not a refusal: only an answer the client judged and turned down is.
    const text = describe(error);
    if (!MUST_REFUSE.has(scenario) || /requires a refusal|fetch failed/.test(text)) throw error;
    console.log(`${scenario}: ok (refused: ${text.split('\n')[0]})`);
  } finally {
    await manager.close();
    await rm(parent, { recursive: true, force: true });
  }
}

/** The error and its causes, one per line: "fetch failed" alone does not say what failed. */
function describe(error: unknown): string {
  const lines: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 5; depth++) {
    if (!(e instanceof Error)) {
      lines.push(String(e));
      break;
    }
    const code = (e as { code?: unknown }).code;
    lines.push(`${e.name}: ${e.message}${typeof code === 'string' ? ` (${code})` : ''}`);
    e = e.cause;
  }
  return lines.join('\n  caused by ');
}

main().catch((error: unknown) => {
  console.error(`${scenario}: ${describe(error)}`);
  process.exit(1);
});
