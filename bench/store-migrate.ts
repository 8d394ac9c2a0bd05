import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CredentialRecord } from '../src/index.js';
import { AesGcmCipher } from '../src/store/aes-gcm-cipher.js';
import type { CredentialStore } from '../src/store/credential-store.js';
import { FileCredentialStore } from '../src/store/file-credential-store.js';
import { migrateStore } from '../src/store/store-migration.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { cloneRecordFor } from './fake-record.js';
import { fmt, type Table } from './table.js';

/** One migration measured: where from, where to, how many records, how fast. */
export interface StoreMigrateRow {
  subject: string;
  records: number;
  copied: number;
  wallMs: number;
  recordsPerSec: number;
  /** recordsPerSec as a ratio to the file -> file baseline of the same run. */
  vsFileToFile: number;
}

/**
 * Records per second of `migrateStore` (what `mcp-oauth store migrate` runs), all records sealed
 * with AES-256-GCM: file -> file (the baseline: another home on the same disk), file -> Redis,
 * Redis -> file, and a repeated file -> Redis (idempotent: compares, copies nothing). Redis rows
 * are left out, with a note, when `redis-server` is not installed.
 */
export async function benchStoreMigrate(options: {
  parentDir: string;
  template: CredentialRecord;
  records: number;
  progress: (text: string) => void;
}): Promise<{ rows: StoreMigrateRow[]; notes: string[]; table: Table }> {
  const cipher = new AesGcmCipher(randomBytes(32));
  const now = Date.now();
  const source = new FileCredentialStore({
    home: join(options.parentDir, 'migrate-a'),
    watch: false,
    cipher,
  });
  options.progress(`store migrate: writing ${options.records} records`);
  const queue = Array.from({ length: options.records }, (_, i) => i);
  const writer = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const server = `migrate-${i}`;
      await source.put(
        { server },
        cloneRecordFor(options.template, server, `https://${server}.example/mcp`, now),
        null,
      );
    }
  };
  await Promise.all(Array.from({ length: 16 }, writer));
  const rows: StoreMigrateRow[] = [];
  const notes: string[] = [];
  const measure = async (subject: string, from: CredentialStore, to: CredentialStore, displayUrl: string) => {
    options.progress(`store migrate: ${subject}`);
    const started = performance.now();
    const report = await migrateStore(from, { store: to, displayUrl });
    const wallMs = performance.now() - started;
    const recordsPerSec = (report.total / wallMs) * 1000;
    rows.push({
      subject,
      records: report.total,
      copied: report.copied,
      wallMs,
      recordsPerSec,
      vsFileToFile: 0,
    });
  };
  const fileTarget = new FileCredentialStore({
    home: join(options.parentDir, 'migrate-b'),
    watch: false,
    cipher,
  });
  await measure('file -> file (baseline)', source, fileTarget, 'file');
  let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  try {
    redis = await startRedisServer();
  } catch (error) {
    notes.push(`Redis rows skipped: ${(error as Error).message.split('\n')[0]}`);
  }
  if (redis) {
    const { RedisCredentialStore } = await import('../src/store/redis-credential-store.js');
    const shared = new RedisCredentialStore({ url: redis.url, cipher });
    const back = new FileCredentialStore({
      home: join(options.parentDir, 'migrate-c'),
      watch: false,
      cipher,
    });
    try {
      await measure('file -> Redis', source, shared, redis.url);
      await measure('file -> Redis again (idempotent, nothing to copy)', source, shared, redis.url);
      await measure('Redis -> file', shared, back, 'file');
    } finally {
      await shared.close();
      await redis.stop();
    }
  }
  const base = rows[0]!.recordsPerSec;
  for (const row of rows) row.vsFileToFile = row.recordsPerSec / base;
  const table: Table = {
    headers: [
      'store migrate (sealed records, 16 at a time)',
      'records',
      'copied',
      'wall ms',
      'records/s',
      'vs file -> file',
    ],
    rows: rows.map((r) => [
      r.subject,
      fmt.int(r.records),
      fmt.int(r.copied),
      fmt.ms(r.wallMs),
      fmt.int(r.recordsPerSec),
      fmt.ratio(r.vsFileToFile),
    ]),
  };
  return { rows, notes, table };
}
