/**
 * Hosts for the proxy suites: the MCP SDK's StdioClientTransport starts `mcp-oauth proxy` (the
 * CLI bundle the CLI suites run, test/cli/harness.ts) as a real child process, as Claude Desktop
 * or Cursor would; the scripted browser, behind a counting shell script, is `BROWSER`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PassThrough } from 'node:stream';
import { Client, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { cliEntry, cliEnv, scriptedBrowserCommand } from '../cli/harness.js';

/** A host: the SDK client over stdio to one proxy process, and the proxy's stderr so far. */
export interface ProxyHost {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  /** Every message the host received from the proxy since it connected, as it came. */
  received: JSONRPCMessage[];
  pid: number;
  close(): Promise<void>;
}

/** The proxy's command line (node + the CLI bundle) for `args` after `mcp-oauth`. */
export async function proxyCommand(
  home: string,
  args: string[],
): Promise<{ command: string; args: string[] }> {
  return { command: process.execPath, args: [await cliEntry(), '--home', home, 'proxy', ...args] };
}

/**
 * The environment of a proxy: the clean CLI environment without a display or npm's variables
 * (the suite itself may run under npx), plus `extra` (undefined removes a variable).
 */
export function proxyEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const npm = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('npm_'))
      .map((k) => [k, undefined]),
  );
  const env = cliEnv({ ...npm, DISPLAY: undefined, WAYLAND_DISPLAY: undefined, ...extra });
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A raw stdio transport to a proxy (no Client: the test sends and reads JSON-RPC itself). */
export async function startRawProxy(
  home: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ transport: StdioClientTransport; stderr: () => string }> {
  const transport = new StdioClientTransport({ ...(await proxyCommand(home, args)), env, stderr: 'pipe' });
  let stderr = '';
  (transport.stderr as PassThrough | null)?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  await transport.start();
  return { transport, stderr: () => stderr };
}

/** Starts a proxy with a connected SDK client as its host (the client's `initialize` goes through it). */
export async function startProxyHost(
  home: string,
  args: string[],
  env: Record<string, string>,
  setup: (client: Client) => void = () => {},
  capabilities: Record<string, unknown> = {},
): Promise<ProxyHost> {
  const transport = new StdioClientTransport({
    ...(await proxyCommand(home, args)),
    env,
    stderr: 'pipe',
    maxBufferSize: 64 * 1024 * 1024,
  });
  let stderr = '';
  (transport.stderr as PassThrough | null)?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'proxy-test-host', version: '1.0.0' }, { capabilities });
  setup(client);
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(
      `host could not connect through the proxy: ${(error as Error).message}\nproxy stderr:\n${stderr}`,
    );
  }
  const received: JSONRPCMessage[] = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message) => {
    received.push(message);
    deliver?.(message);
  };
  return {
    client,
    transport,
    received,
    stderr: () => stderr,
    pid: transport.pid!,
    close: () => client.close(),
  };
}

/**
 * A `BROWSER` command that counts its launches (one line per launch in `countFile`) and then
 * runs the kit's scripted browser on the URL.
 */
export async function countingBrowser(
  dir: string,
): Promise<{ command: string; launches: () => Promise<number> }> {
  const countFile = join(dir, 'browser-launches');
  const script = join(dir, 'browser.sh');
  await writeFile(countFile, '');
  await writeFile(
    script,
    `#!/bin/sh\necho launched >> '${countFile}'\nexec ${await scriptedBrowserCommand()} "$@"\n`,
    {
      mode: 0o700,
    },
  );
  return {
    command: `/bin/sh ${script}`,
    launches: async () => (await readFile(countFile, 'utf8')).split('\n').filter(Boolean).length,
  };
}

/** Processes whose command line mentions `marker` (a test's unique home folder), other than this one. */
export function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Resolves true once `pid` is gone, false after `timeoutMs`. */
export async function exitsWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped by a dead parent) is gone for our purposes.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
