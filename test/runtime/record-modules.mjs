// Preloaded with `node --import` by compiled.test.ts: on exit, writes every module file the process loaded (ES
// modules through a resolve hook, CommonJS from require's cache) as a JSON array to HEADWATCH_TEST_MODULES_OUT.
import { createRequire, register } from 'node:module';
import { writeFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';

const out = process.env.HEADWATCH_TEST_MODULES_OUT;
const esm = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => esm.add(url));
port1.unref();
register('./record-modules-hooks.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
process.on('exit', () => {
  if (out) writeFileSync(out, JSON.stringify([...esm, ...Object.keys(createRequire(import.meta.url).cache)]));
});
