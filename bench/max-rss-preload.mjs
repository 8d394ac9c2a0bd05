// The fallback when /usr/bin/time is missing: `node --import <this file> <cli> ...` writes the
// process's peak resident set size (kB) to $BENCH_MAX_RSS_FILE when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MAX_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
