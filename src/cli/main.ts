#!/usr/bin/env node
import { processIO } from './io.js';
import { flushOutput } from './output.js';
import { run } from './program.js';

// Exit explicitly: stdin read by a paste login, or a server's keep-alive socket, must not keep a
// finished command alive. The manager is already closed, so no refresh is cut short; output is
// flushed first so a pipe receives everything. A signal exits the same way (130, 143): the
// credential files are only ever replaced atomically, so stopping mid-command loses nothing.
const exit = async (code: number) => {
  await flushOutput();
  process.exit(code);
};
await exit(
  await run(
    process.argv,
    processIO((code) => void exit(code)),
  ),
);
