// The production command, in one place: package.json's `start` script. The image's CMD, `npm run bench` and the
// compiled-runtime test all run exactly this (a test checks the Dockerfile against it), so a runtime flag added
// here is the one measured and the one shipped.
//
// --max-semi-space-size=1 (MB): V8 otherwise lets its young generation grow to 16 MB semi-spaces, which even an
// idle watcher fills between scavenges and keeps resident — about 10 MB of a ~90 MB process. headwatch's
// allocations are short-lived and small (a log line, a sample), so the more frequent scavenges cost little CPU.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './build.mjs';

/** The arguments after `node` in `npm start`, e.g. ['--max-semi-space-size=1', 'dist/src/main.js']. */
export function runtimeArgs() {
  const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/src/main.js') {
    throw new Error(`package.json "start" must be "node [flags] dist/src/main.js", not "${start}"`);
  }
  return words.slice(1);
}
