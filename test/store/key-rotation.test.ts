import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { AesGcmCipher, keyIdOf, sealedKeyId } from '../../src/store/aes-gcm-cipher.js';
import { RecordKeyMissingError } from '../../src/store/encryption-errors.js';
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { runCli } from '../cli/harness.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type Child, startChild } from '../support/children.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { makeRecord } from './helpers.js';

const cleanups = useCleanups();
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const demo = { server: 'demo' };
const EXTRA = 300;

// Every value of every record hash under the default prefix, in one round trip (a test-only KEYS).
const BODIES_SCRIPT = `local out = {}
for _, key in ipairs(redis.call('KEYS', ARGV[1])) do
  local fields = redis.call('HGETALL', key)
  for i = 2, #fields, 2 do table.insert(out, fields[i]) end
end
return out`;

/** The stored record bodies (sealed or JSON): the values that look like one. */
async function storedBodies(server: RedisServer): Promise<string[]> {
  const values = (await server.cli('EVAL', BODIES_SCRIPT, '0', 'mcp-oauth:*:rec')).split('\n');
  return values.filter((value) => value.startsWith('mcpo-enc:') || value.startsWith('{'));
}

describe('encryption on Redis', () => {
  it('rotate-key under load: calls and refreshes keep succeeding, every record ends under the new key, nothing lost', async () => {
    await redis.cli('FLUSHALL');
    const as = await startAuthorizationServer({ accessTokenTtlSeconds: 3600 });
    cleanups.push(() => as.close());
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = { MCP_OAUTH_STORE: redis.url, MCP_OAUTH_ENCRYPTION_KEY: oldKey.toString('base64') };
    const during = {
      MCP_OAUTH_STORE: redis.url,
      MCP_OAUTH_ENCRYPTION_KEY: newKey.toString('base64'),
      MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS: oldKey.toString('base64'),
    };
    const manager = new OAuthManager({
      home,
      env: before,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
    });
    manager.getOrBuildProvider('demo', mcp.url);
    await manager.login('demo');
    await manager.close();
    as.resetStats();
    // Many more records, sealed with the old key, so the rotation overlaps the calls.
    const oldStore = new RedisCredentialStore({ url: redis.url, cipher: new AesGcmCipher(oldKey) });
    cleanups.push(() => oldStore.close());
    const extras = Array.from({ length: EXTRA }, (_, i) => makeRecord({ server: `extra-${i}` }));
    await Promise.all(extras.map((record) => oldStore.put({ server: record.server }, record, null)));
    expect(new Set((await storedBodies(redis)).map(sealedKeyId))).toEqual(new Set([keyIdOf(oldKey)]));

    const hosts: Child[] = [];
    for (let i = 0; i < 2; i++) {
      const host = await startChild({ CHILD_HOME: home, CHILD_MCP_URL: mcp.url, ...during });
      cleanups.push(() => host.stop());
      hosts.push(host);
    }
    const newStore = new RedisCredentialStore({ url: redis.url, cipher: new AesGcmCipher(newKey, [oldKey]) });
    cleanups.push(() => newStore.close());
    const rounds = async (count: number) => {
      const results: Array<{ ok: number; failed: number }> = [];
      for (let r = 0; r < count; r++) {
        const expiresAt = (await newStore.get(demo))!.tokens!.expiresAt!;
        await Promise.all(hosts.map((h) => h.request({ type: 'clock', now: expiresAt + 1 }, 'clock-set')));
        results.push(
          ...(await Promise.all(
            hosts.map((h) => h.request<{ ok: number; failed: number }>({ type: 'go', calls: 20 }, 'done')),
          )),
        );
      }
      return results;
    };
    const [results, rotated] = await Promise.all([
      rounds(5),
      runCli(['--home', home, '--json', 'store', 'rotate-key'], { env: during }),
    ]);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ keyId: keyIdOf(newKey), rewritten: EXTRA + 1 });
    for (const result of results) expect(result).toMatchObject({ ok: 20, failed: 0 });
    expect(as.stats.refreshRequests).toBe(5);
    expect(as.stats.invalidGrant).toBe(0);

    // Every record now opens with the new key alone; nothing was lost.
    expect(new Set((await storedBodies(redis)).map(sealedKeyId))).toEqual(new Set([keyIdOf(newKey)]));
    const onlyNew = new RedisCredentialStore({ url: redis.url, cipher: new AesGcmCipher(newKey) });
    cleanups.push(() => onlyNew.close());
    expect((await onlyNew.list()).length).toBe(EXTRA + 1);
    for (const record of extras) {
      const read = await onlyNew.get({ server: record.server });
      expect(read?.tokens).toEqual(record.tokens);
      expect(read?.recordId).toBe(record.recordId);
    }
    // And the live grant still refreshes.
    expect((await rounds(1))[0]).toMatchObject({ ok: 20, failed: 0 });
    expect(as.stats.invalidGrant).toBe(0);
  }, 180_000);

  it('a wrong key: a clear error naming the key id; Redis keeps every key and the record still opens', async () => {
    await redis.cli('FLUSHALL');
    const rightKey = randomBytes(32);
    const right = new RedisCredentialStore({ url: redis.url, cipher: new AesGcmCipher(rightKey) });
    cleanups.push(() => right.close());
    const record = makeRecord(demo);
    await right.put(demo, record, null);
    const keysBefore = (await redis.cli('--scan')).split('\n').filter(Boolean).sort();
    const bytes = (await storedBodies(redis)).join('\n');
    expect(bytes).not.toContain(record.tokens!.accessToken);
    expect(bytes).not.toContain(record.tokens!.refreshToken!);

    const wrong = new RedisCredentialStore({ url: redis.url, cipher: new AesGcmCipher(randomBytes(32)) });
    cleanups.push(() => wrong.close());
    const error = await wrong.get(demo).catch((e) => e);
    expect(error).toBeInstanceOf(RecordKeyMissingError);
    expect(error.message).toContain(keyIdOf(rightKey));
    expect(error.message).not.toContain(record.tokens!.accessToken);
    expect((await redis.cli('--scan')).split('\n').filter(Boolean).sort()).toEqual(keysBefore);
    expect(await right.get(demo)).toEqual(record);
  });
});
