import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, StoreUnavailableError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { writeMoveMarker } from '../../src/store/move-marker.js';
import { openStore } from '../../src/store/open-store.js';
import { SelectedStore } from '../../src/store/selected-store.js';
import { StoreMovedError } from '../../src/store/store-moved-error.js';
import { storeSpecOf } from '../../src/store/store-spec.js';
import { cliEntry, REPO_ROOT, runCli, writeConfig } from '../cli/harness.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { tempHome } from '../support/temp-home.js';
import { makeRecord } from './helpers.js';

const run = promisify(execFile);
const PASSWORD = 'pw-SECRET-5e1f';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ home, cleanup } = await tempHome());
});
afterEach(() => cleanup());

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('store selection', () => {
  it('MCP_OAUTH_STORE overrides config.yaml; file is the default', () => {
    const settings = { url: 'redis://127.0.0.1:6379/0', prefix: 'p:' };
    expect(storeSpecOf(undefined, {})).toMatchObject({ url: 'file', backend: 'file', from: 'default' });
    expect(storeSpecOf(settings, {})).toMatchObject({ backend: 'redis', prefix: 'p:', from: 'config' });
    expect(storeSpecOf(settings, { MCP_OAUTH_STORE: 'file' })).toMatchObject({
      backend: 'file',
      from: 'environment',
    });
    expect(() => storeSpecOf(undefined, { MCP_OAUTH_STORE: `http://u:${PASSWORD}@x` })).toThrow(ConfigError);
    try {
      storeSpecOf(undefined, { MCP_OAUTH_STORE: `http://u:${PASSWORD}@x` });
    } catch (error) {
      expect((error as Error).message).not.toContain(PASSWORD);
    }
  });

  it('config.yaml store: errors name the key and suggest the right one', async () => {
    const { loadConfig } = await import('../../src/config/config-file.js');
    const cases: Array<[string, RegExp]> = [
      ['store: {prefx: "a:"}\n', /store has an unknown key "prefx"; did you mean prefix\?/],
      [
        'store: {encryption: {key_fil: /k}}\n',
        /store\.encryption has an unknown key "key_fil"; did you mean key_file\?/,
      ],
      ['store: {encryption: nope}\n', /store\.encryption must be none or a mapping with key_file/],
      [
        `store: {url: "http://u:${PASSWORD}@x"}\n`,
        /store\.url must be file or a redis:\/\/ or rediss:\/\/ URL/,
      ],
      ['stor: {}\n', /unknown key "stor"; did you mean store\?/],
    ];
    for (const [yaml, expected] of cases) {
      await writeConfig(home, yaml);
      const error = await loadConfig(home, {}).catch((e) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(expected);
      expect(error.message).not.toContain(PASSWORD);
    }
    await writeConfig(home, 'store:\n  url: rediss://h:6380/0\n  prefix: "t:"\n  encryption: none\n');
    expect((await loadConfig(home, {})).store).toEqual({
      url: 'rediss://h:6380/0',
      prefix: 't:',
      encryption: 'none',
    });
  });

  it('a Redis store without a key is refused unless encryption: none is written', async () => {
    const url = `redis://default:${PASSWORD}@127.0.0.1:${redis.port}/0`;
    const refused = await openStore(
      { url, backend: 'redis', encryption: undefined, from: 'environment' },
      { home, env: {}, logger: silentLogger },
    ).catch((e) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused.message).toMatch(/needs an encryption key.*encryption: none/);
    expect(refused.message).not.toContain(PASSWORD);
    const plain = await openStore(
      { url: redis.url, backend: 'redis', encryption: 'none', from: 'config' },
      { home, env: {}, logger: silentLogger },
    );
    expect(plain.backend).toBe('redis');
    await plain.store.close();
  });

  it('an unreachable store at start: a clear error naming the URL without its password', async () => {
    const url = `redis://app:${PASSWORD}@127.0.0.1:1/0`;
    const error = await openStore(
      { url, backend: 'redis', encryption: 'none', from: 'environment' },
      { home, env: {}, logger: silentLogger },
    ).catch((e) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.message).toContain('redis://app:***@127.0.0.1:1/0');
    expect(error.message).not.toContain(PASSWORD);
    // Through the CLI: exit 1, the same URL, no password anywhere.
    await writeConfig(home, 'store:\n  encryption: none\n');
    const result = await runCli(['--home', home, 'store', 'status'], { env: { MCP_OAUTH_STORE: url } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('redis://app:***@127.0.0.1:1/0');
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('SelectedStore with MCP_OAUTH_STORE=redis:// and a key writes to Redis', async () => {
    const key = randomBytes(32).toString('base64');
    const store = new SelectedStore({
      home,
      env: { MCP_OAUTH_STORE: redis.url, MCP_OAUTH_ENCRYPTION_KEY: key },
    });
    const record = makeRecord({ server: 'via-selection' });
    expect(await store.put({ server: 'via-selection' }, record, null)).toEqual({ ok: true });
    expect((await store.resolve()).backend).toBe('redis');
    expect(await store.get({ server: 'via-selection' })).toEqual(record);
    await store.close();
    const stored = await redis.cli('--scan');
    expect(stored).toContain('mcp-oauth:{');
  });

  it('a lock on a store marked moved to a URL it cannot follow: StoreMovedError naming it, fn never runs', async () => {
    const file = new FileCredentialStore({ home, watch: false });
    await writeMoveMarker(file, { phase: 'moved', to: 'rediss://app:***@redis.example.com:6380/0', at: 1 });
    const store = new SelectedStore({ home, env: {} });
    let ran = false;
    const error = await store
      .withLock({ server: 'x' }, async () => {
        ran = true;
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(StoreMovedError);
    expect(error.message).toContain('rediss://app:***@redis.example.com:6380/0');
    expect(ran).toBe(false);
    expect(await store.list()).toEqual([]); // the marker is not a credential
    await store.close();
  });
});

describe('the redis package is loaded only for a redis:// store', () => {
  const recorder = fileURLToPath(new URL('../support/import-recorder.mjs', import.meta.url));

  async function specifiersOf(args: string[], env: Record<string, string> = {}): Promise<string[]> {
    const record = join(home, '..', 'imports.txt');
    await writeFile(record, '');
    await run(process.execPath, ['--import', recorder, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, IMPORT_RECORD_FILE: record, MCP_OAUTH_STORE: '', ...env },
    });
    return (await readFile(record, 'utf8')).split('\n').filter(Boolean);
  }
  const isRedis = (specifier: string) => specifier === 'redis' || specifier.startsWith('@redis/');

  it('not by the root import, not by `mcp-oauth status` on a file store; yes by `store status` on Redis', async () => {
    const root = await specifiersOf(['--import', 'tsx', '-e', "await import('./src/index.ts')"]);
    expect(root.length).toBeGreaterThan(0); // the recorder works
    expect(root.filter(isRedis)).toEqual([]);
    const cli = await cliEntry();
    await writeConfig(home, 'servers: {}\n');
    const status = await specifiersOf([cli, '--home', home, 'status']);
    expect(status.filter(isRedis)).toEqual([]);
    const onRedis = await specifiersOf([cli, '--home', home, 'store', 'status'], {
      MCP_OAUTH_STORE: redis.url,
      MCP_OAUTH_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    expect(onRedis.filter(isRedis).length).toBeGreaterThan(0);
  }, 60_000);
});

describe('mcp-oauth store status --json', () => {
  it('backend, reachability, latency and the record count, never the contents', async () => {
    const key = randomBytes(32).toString('base64');
    const env = { MCP_OAUTH_ENCRYPTION_KEY: key };
    const file = await runCli(['--home', home, '--json', 'store', 'status'], { env });
    expect(file.code).toBe(0);
    expect(JSON.parse(file.stdout).store).toMatchObject({
      backend: 'file',
      url: 'file',
      reachable: true,
      records: 0,
      selectedBy: 'default',
    });
    const store = new FileCredentialStore({ home, watch: false });
    const records = [makeRecord({ server: 'a' }), makeRecord({ server: 'b', account: 'work' })];
    for (const record of records)
      await store.put({ server: record.server, account: record.account }, record, null);
    const url = `redis://default:${PASSWORD}@127.0.0.1:${redis.port}/0`;
    await redis.cli('CONFIG', 'SET', 'requirepass', PASSWORD);
    try {
      const counted = await runCli(['--home', home, '--json', 'store', 'status'], { env });
      expect(JSON.parse(counted.stdout).store.records).toBe(2);
      expect(counted.stdout).not.toContain(records[0]!.tokens!.accessToken);
      const shared = await runCli(['--home', home, '--json', 'store', 'status'], {
        env: { ...env, MCP_OAUTH_STORE: url },
      });
      expect(shared.code).toBe(0);
      const report = JSON.parse(shared.stdout).store;
      expect(report).toMatchObject({ backend: 'redis', reachable: true, selectedBy: 'environment' });
      expect(typeof report.latencyMs).toBe('number');
      expect(typeof report.records).toBe('number');
      expect(report.encryptionKeyId).toMatch(/^[0-9a-f]{12}$/);
      expect(shared.stdout).not.toContain(PASSWORD);
    } finally {
      await redis.cli('-a', PASSWORD, '--no-auth-warning', 'CONFIG', 'SET', 'requirepass', '');
    }
  });
});
