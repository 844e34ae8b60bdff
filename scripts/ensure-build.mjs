// Runs before `npm start`: compiles only when dist/ is missing or older than the sources, so `npm ci && npm start`
// on a fresh clone just works and an edited checkout never runs stale JavaScript, while an unchanged one starts
// without paying for the compiler. The container image runs `node dist/src/main.js` directly and skips this.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, root, stampFile } from './build.mjs';
import { sourceFingerprint } from './sources.mjs';

export function buildIsCurrent() {
  if (!existsSync(join(root, 'dist', 'src', 'main.js')) || !existsSync(stampFile)) return false;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return false;
  }
  const now = sourceFingerprint(root);
  return stamp.files === now.files && stamp.newest === now.newest;
}

export function ensureBuild() {
  if (buildIsCurrent()) return false;
  process.stderr.write('headwatch: compiling TypeScript to dist/ (sources changed since the last build)…\n');
  build();
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    ensureBuild();
  } catch (err) {
    process.stderr.write(`build failed: ${err.message}\n`);
    process.exit(1);
  }
}
