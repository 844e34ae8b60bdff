// `npm run build`: compiles src/ and commands/ to dist/ with tsc (tsconfig.build.json), from a clean dist/ so a
// moved or deleted module never lingers there, and records what it compiled so `npm start` can tell a stale build.
// Plain JavaScript on purpose: it must run before anything is compiled.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sourceFingerprint } from './sources.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const stampFile = join(root, 'dist', '.build-stamp.json');

export function build() {
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('the TypeScript compiler is not installed: run `npm ci` (with dev dependencies) first, or use the container image');
  }
  const fingerprint = sourceFingerprint(root);
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  writeFileSync(stampFile, JSON.stringify(fingerprint) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    build();
  } catch (err) {
    process.stderr.write(`build failed: ${err.message}\n`);
    process.exit(1);
  }
}
