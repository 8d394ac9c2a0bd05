/**
 * A second process for the cross-process store tests. Usage:
 *   store-child.ts <command> <home> <server> [args...]
 * Commands print `ready`/`locked`/`done` on stdout when the parent may proceed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type CredentialRecord, type RecordVersion, versionOf } from '../../src/store/credential-record.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { makeRecord, sleep } from './helpers.js';

const [command, home, server, ...rest] = process.argv.slice(2);
if (!command || !home || server === undefined) {
  process.stderr.write('usage: store-child.ts <command> <home> <server> [args...]\n');
  process.exit(2);
}
const key = { server };
const store = new FileCredentialStore({ home, watch: false });
const say = (line: string) => process.stdout.write(`${line}\n`);
const putOrFail = async (record: CredentialRecord, expect: RecordVersion | null) => {
  const result = await store.put(key, record, expect);
  if (!result.ok) throw new Error(`put of ${record.recordId}@${record.generation} lost a compare-and-set`);
};

switch (command) {
  case 'put-loop': {
    // Started ahead of time: waits for `go` on stdin, then writes records of varying size
    // forever; the parent SIGKILLs it at a random moment.
    say('started');
    await new Promise<void>((resolve) => {
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk: string) => {
        if (chunk.includes('go')) resolve();
      });
    });
    // Each writer replaces what the previous (killed) writer left, then writes its own versions.
    const current = await store.get(key);
    const base = makeRecord(key);
    await putOrFail(base, current ? versionOf(current) : null);
    say('ready');
    let previous = base;
    for (let generation = 1; ; generation++) {
      const size = 1_000 + ((generation * 7919) % 1_000_000);
      const record = { ...base, generation, tokens: { ...base.tokens!, accessToken: 'x'.repeat(size) } };
      await putOrFail(record, versionOf(previous));
      previous = record;
    }
  }
  case 'put-once': {
    await putOrFail(makeRecord(key, { recordId: rest[0] ?? 'from-child' }), null);
    say('done');
    break;
  }
  case 'increment': {
    // Read-modify-write of a plain counter file under withLock: only mutual exclusion keeps it exact.
    const [counterFile, times] = rest;
    for (let i = 0; i < Number(times); i++) {
      await store.withLock(key, async () => {
        const value = Number(await readFile(counterFile!, 'utf8').catch(() => '0'));
        await sleep(1);
        await writeFile(counterFile!, String(value + 1));
      });
    }
    say('done');
    break;
  }
  case 'hold-lock-then-collect': {
    // Takes the lock with work that nothing references (a promise that never settles), then
    // forces garbage collections: the lock must outlive them (a collected FileHandle would close
    // its descriptor and drop the kernel lock).
    setInterval(() => {}, 1_000);
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    void store.withLock(key, async () => {
      say('locked');
      await new Promise(() => {});
    });
    setTimeout(() => {
      for (let i = 0; i < 5; i++) gc();
      // FileHandle finalizers close the descriptor on a later tick.
      setTimeout(() => say('collected'), 200);
    }, 100);
    await new Promise(() => {});
    break;
  }
  case 'hold-lock': {
    // Takes the transaction lock and never lets go; the parent SIGKILLs it.
    setInterval(() => {}, 1_000);
    await store.withLock(key, async () => {
      say('locked');
      await new Promise(() => {});
    });
    break;
  }
  default:
    process.stderr.write(`unknown command ${command}\n`);
    process.exit(2);
}
await store.close();
