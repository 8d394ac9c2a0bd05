/**
 * A second process for the cross-process store tests. Usage:
 *   store-child.ts <command> <home> <server> [args...]
 * Commands print `ready`/`locked`/`done` on stdout when the parent may proceed.
 */
import { readFile, writeFile } from 'node:fs/promises';
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
    const base = makeRecord(key);
    await store.put(key, base, 'any');
    say('ready');
    for (let generation = 1; ; generation++) {
      const size = 1_000 + ((generation * 7919) % 1_000_000);
      const record = { ...base, generation, tokens: { ...base.tokens!, accessToken: 'x'.repeat(size) } };
      await store.put(key, record, 'any');
    }
  }
  case 'put-once': {
    await store.put(key, makeRecord(key, { recordId: rest[0] ?? 'from-child' }), 'any');
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
