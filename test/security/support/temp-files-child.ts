/**
 * A writer process for test/security/temp-files.test.ts. Usage:
 *   temp-files-child.ts hang <home> <server>   put() that stops after writing its temp file (prints
 *                                              `writing <temp path>`) and waits to be SIGKILLed
 *   temp-files-child.ts loop <home> <server>   waits for `go` on stdin, then puts large records
 *                                              until SIGKILLed (prints `ready` after the first)
 * The umask is 0 in both, so a temp file's mode is exactly what the writer sets.
 */
import { atomicWriteTestHooks } from '../../../src/atomic-file.js';
import { type CredentialRecord, versionOf } from '../../../src/store/credential-record.js';
import { FileCredentialStore } from '../../../src/store/file-credential-store.js';
import { makeRecord } from '../../store/helpers.js';

const [command, home, server] = process.argv.slice(2);
if (!command || !home || !server) {
  process.stderr.write('usage: temp-files-child.ts hang|loop <home> <server>\n');
  process.exit(2);
}
process.umask(0);
const key = { server };
const store = new FileCredentialStore({ home, watch: false });
const say = (line: string) => process.stdout.write(`${line}\n`);
setInterval(() => {}, 1_000);

if (command === 'hang') {
  atomicWriteTestHooks.afterTempWrite = async (tempPath) => {
    say(`writing ${tempPath}`);
    await new Promise(() => {});
  };
  await store.put(key, makeRecord(key), null);
} else if (command === 'loop') {
  say('started');
  await new Promise<void>((resolve) => {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (chunk.includes('go')) resolve();
    });
  });
  const current = await store.get(key);
  let previous: CredentialRecord = makeRecord(key);
  const first = await store.put(key, previous, current ? versionOf(current) : null);
  if (!first.ok) throw new Error('lost the first compare-and-set');
  say('ready');
  for (let generation = 1; ; generation++) {
    const size = 100_000 + ((generation * 7919) % 1_000_000);
    const record = {
      ...previous,
      generation,
      tokens: { ...previous.tokens!, accessToken: 'x'.repeat(size) },
    };
    const result = await store.put(key, record, versionOf(previous));
    if (!result.ok) throw new Error('lost a compare-and-set');
    previous = record;
  }
} else {
  process.stderr.write(`unknown command ${command}\n`);
  process.exit(2);
}
