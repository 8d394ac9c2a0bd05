/**
 * Temp files of writers that died mid-write hold a whole record (tokens). They are 0600 and swept
 * by the next store that starts, as soon as their writer is gone, whatever their age; a live
 * writer's temp file is left alone. Real child processes, killed with SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { encodeRecord } from '../../src/store/record-codec.js';
import { makeRecord, SECRET_ACCESS_TOKEN, sleep, tempRoot } from '../store/helpers.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'support', 'temp-files-child.ts');

interface Writer {
  process: ChildProcess;
  /** Resolves with the rest of the first stdout line that starts with `prefix`. */
  line(prefix: string): Promise<string>;
  send(text: string): void;
  kill(): Promise<void>;
}

function startWriter(command: 'hang' | 'loop', server: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, command, home, server], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const writer: Writer = {
    process: child,
    async line(prefix) {
      for (;;) {
        const found = out.split('\n').find((l) => l.startsWith(prefix));
        if (found !== undefined) return found.slice(prefix.length);
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`writer exited before '${prefix}': ${err}`);
        await sleep(10);
      }
    },
    send: (text) => child.stdin.write(`${text}\n`),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  writers.push(writer);
  return writer;
}

let home: string;
let cleanup: () => Promise<void>;
const writers: Writer[] = [];
const stores: FileCredentialStore[] = [];

const credentialsDir = () => join(home, 'credentials');
const tempFiles = async () => (await readdir(credentialsDir())).filter((n) => n.endsWith('.tmp')).sort();

async function startStore(): Promise<FileCredentialStore> {
  const store = await FileCredentialStore.open({ home, watch: false });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  ({ home, cleanup } = await tempRoot());
  // The home exists before the writers start, so none of them races to create it.
  await startStore();
});

afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.kill()));
  for (const store of stores.splice(0)) await store.close();
  await cleanup();
});

describe('temp files of writers killed mid-write', () => {
  it('20 writers SIGKILLed after writing their temp file: the next store start sweeps all 20, not a live writer’s', async () => {
    const killed = Array.from({ length: 20 }, (_, i) => startWriter('hang', `killed-${i}`));
    const live = startWriter('hang', 'live');
    const killedTemps = await Promise.all(killed.map((w) => w.line('writing ')));
    const liveTemp = await live.line('writing ');
    // Each holds a whole record, tokens included, and is 0600 even under umask 0.
    for (const temp of [...killedTemps, liveTemp]) {
      expect(((await lstat(temp)).mode & 0o777).toString(8)).toBe('600');
    }
    expect(await readFile(killedTemps[0]!, 'utf8')).toContain(SECRET_ACCESS_TOKEN);
    await Promise.all(killed.map((w) => w.kill()));
    expect(await tempFiles()).toHaveLength(21);

    await startStore();
    expect(await tempFiles()).toEqual([liveTemp.slice(credentialsDir().length + 1)]);

    // Once the live writer dies too, the next start sweeps its file as well.
    await live.kill();
    await startStore();
    expect(await tempFiles()).toEqual([]);
  });

  it('writers SIGKILLed at random moments of a put loop leave no temp file past the next start', async () => {
    const key = { server: 'looping' };
    const loopers = Array.from({ length: 10 }, () => startWriter('loop', key.server));
    await Promise.all(loopers.map((w) => w.line('started')));
    let left = 0;
    for (const writer of loopers) {
      writer.send('go');
      await writer.line('ready');
      await sleep(5 + Math.random() * 60);
      await writer.kill();
      left += (await tempFiles()).length;
      const store = await startStore();
      expect(await tempFiles()).toEqual([]);
      // The record is the old one or the new one, never a mix.
      expect((await store.get(key))?.server).toBe(key.server);
    }
    console.info(`temp files left by 10 kills mid put-loop: ${left}; after the next start: 0`);
  });

  it('a temp file named with a live pid (pid reuse) is swept when no writer holds its record', async () => {
    const key = { server: 'reused-pid' };
    const base = fileNameFor(key);
    // The name a writer with this test process's pid would use: the pid is alive, the writer is not.
    const name = `.${base}.json.${process.pid}.0123456789ab.tmp`;
    await writeFile(join(credentialsDir(), name), encodeRecord(makeRecord(key)), { mode: 0o600 });
    const stranger = '.not-ours.tmp';
    await writeFile(join(credentialsDir(), stranger), 'x', { mode: 0o600 });
    await startStore();
    // A temp file that no record writer could have made is left to the 10-minute rule.
    expect(await tempFiles()).toEqual([stranger]);
  });
});
