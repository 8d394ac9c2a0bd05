/**
 * Real Redis servers for tests: `redis-server` (Debian's, installed by .ci/run) on a free
 * 127.0.0.1 port with its data in a temporary folder, and a local 3-node Redis Cluster. Nothing
 * depends on a system service; every server is stopped (and its folder removed) by `stop()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Options of a test Redis server. */
export interface RedisServerOptions {
  /** Append-only file with fsync at every write: what a restart must keep (default false: no persistence). */
  persistence?: boolean;
  /** Extra `redis-server` arguments (`--name value` pairs). */
  args?: string[];
}

/** A running test Redis server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Runs a `redis-cli` command against it; resolves with its output. */
  cli(...args: string[]): Promise<string>;
  /** SHUTDOWN (clean stop; with persistence, data stays on disk). */
  shutdown(): Promise<void>;
  /** SIGKILL the server process. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder (after shutdown or kill). */
  restart(): Promise<void>;
  /** Stops it for good and removes its folder. */
  stop(): Promise<void>;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free loopback port whose cluster bus port (+10000) is free too. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for redis-server');
}

function startProcess(port: number, dir: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--loglevel',
      'notice',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.once('error', (error) =>
      reject(new Error(`cannot start redis-server (install Debian's redis-server): ${error.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) at start:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a Redis server on a free loopback port in a temporary folder. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-oauth-redis-'));
  const port = await freePort();
  const args = [
    ...(options.persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined = await startProcess(port, dir, args);
  const cli = async (...command: string[]) =>
    (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command])).stdout;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    cli,
    async shutdown() {
      if (!child) return;
      const current = child;
      child = undefined;
      await cli('SHUTDOWN', options.persistence ? 'SAVE' : 'NOSAVE').catch(() => {});
      await exited(current);
    },
    async kill() {
      if (!child) return;
      const current = child;
      child = undefined;
      current.kill('SIGKILL');
      await exited(current);
    },
    async restart() {
      if (child) throw new Error('redis-server is still running');
      child = await startProcess(port, dir, args);
    },
    async stop() {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A running local Redis Cluster of three masters (no replicas). */
export interface RedisClusterServers {
  readonly nodes: RedisServer[];
  /** A seed node's URL (node-redis discovers the others). */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts three `redis-server --cluster-enabled yes` and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<RedisClusterServers> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startRedisServer({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    // Wait until every node agrees the cluster is up.
    for (const node of nodes) {
      for (let attempt = 0; ; attempt++) {
        if ((await node.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
        if (attempt > 200) throw new Error('the local Redis Cluster did not become ready');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    nodes,
    url: nodes[0]!.url,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
