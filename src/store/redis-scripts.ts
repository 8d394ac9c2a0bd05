import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis store. Each runs atomically on the server and touches only keys of
 * one credential (one hash tag), so they run unchanged on Redis Cluster. Fields of a record hash:
 * `rid` (recordId), `gen` (generation), `sv` (schemaVersion), `key` (the keyId JSON, for list),
 * `body` (the record JSON, sealed when a cipher is set). The script compares the first three
 * without ever reading the body, so it never needs the encryption key.
 */
export interface RedisScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): RedisScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/** Shared by the write scripts: refuses when a newer lease of the same lock was granted (fencing). */
const FENCE_CHECK = `
if ARGV[1] ~= '' then
  local current = redis.call('GET', KEYS[2])
  if current ~= ARGV[1] then return {'fenced'} end
end`;

/**
 * Compare-and-set. KEYS: record, fence. ARGV: fence value ('' = no lease held), max schema
 * version, expected rid ('' = no record may exist), expected gen, new rid, new gen, schema
 * version, key JSON, body, channel. Returns {'ok'} | {'fenced'} | {'newer', sv} |
 * {'conflict'[, body]}; publishes the key JSON on the channel when written.
 */
export const PUT_SCRIPT = script(`${FENCE_CHECK}
local cur = redis.call('HMGET', KEYS[1], 'rid', 'gen', 'sv', 'body')
if cur[3] and tonumber(cur[3]) > tonumber(ARGV[2]) then return {'newer', cur[3]} end
if ARGV[3] == '' then
  if cur[1] then return {'conflict', cur[4]} end
else
  if not cur[1] then return {'conflict'} end
  if cur[1] ~= ARGV[3] or cur[2] ~= ARGV[4] then return {'conflict', cur[4]} end
end
redis.call('HSET', KEYS[1], 'rid', ARGV[5], 'gen', ARGV[6], 'sv', ARGV[7], 'key', ARGV[8], 'body', ARGV[9])
redis.call('PUBLISH', ARGV[10], ARGV[8])
return {'ok'}`);

/**
 * Delete, optionally only version (rid, gen). KEYS: record, fence. ARGV: fence value, max schema
 * version, expected rid ('' = any), expected gen, channel. Returns {'ok'} | {'absent'} |
 * {'fenced'} | {'newer', sv} | {'conflict'}.
 */
export const DELETE_SCRIPT = script(`${FENCE_CHECK}
local cur = redis.call('HMGET', KEYS[1], 'rid', 'gen', 'sv', 'key')
if not cur[1] then return {'absent'} end
if cur[3] and tonumber(cur[3]) > tonumber(ARGV[2]) then return {'newer', cur[3]} end
if ARGV[3] ~= '' and (cur[1] ~= ARGV[3] or cur[2] ~= ARGV[4]) then return {'conflict'} end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[5], cur[4])
return {'ok'}`);

/**
 * Takes a lease. KEYS: lock, fence. ARGV: owner token, lease ms. Returns {1, fence value} when
 * granted (the fencing counter is incremented with every grant), else {0, ms left on the lease}.
 */
export const ACQUIRE_SCRIPT = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('INCR', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1])}`);

/**
 * Keeps a lease alive: when the token still holds the lock and no newer grant happened, its time
 * left is raised to at least ARGV[3] ms (never shortened). KEYS: lock, fence. ARGV: owner token,
 * fence value, ms. Returns the ms left, or -1 when the lease is lost.
 */
export const RENEW_SCRIPT = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  left = tonumber(ARGV[3])
end
return left`);

/** Releases a lease only if the token still holds it (compare-and-delete). KEYS: lock. ARGV: token. */
export const RELEASE_SCRIPT = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/**
 * Moves an unreadable record aside (never deletes it), only if its body is still the one judged
 * unreadable. KEYS: record, aside (same hash tag). ARGV: body, channel. Returns 1 when moved.
 */
export const QUARANTINE_SCRIPT = script(`
if redis.call('HGET', KEYS[1], 'body') ~= ARGV[1] then return 0 end
local key = redis.call('HGET', KEYS[1], 'key')
redis.call('RENAME', KEYS[1], KEYS[2])
if key then redis.call('PUBLISH', ARGV[2], key) end
return 1`);
