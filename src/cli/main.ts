#!/usr/bin/env node
import { flushOutput } from './output.js';
import { run } from './program.js';

const code = await run(process.argv);
// Exit explicitly: stdin read by a paste login, or a server's keep-alive socket, must not keep a
// finished command alive. The manager is already closed, so no refresh is cut short; output is
// flushed first so a pipe receives everything.
await flushOutput();
process.exit(code);
