import { createRequire } from 'node:module';
import Module from 'node:module';

/**
 * dockerode loads two things at require time that headwatch does not use, ~15 MB of an idle process's memory:
 * its BuildKit session (dockerode/lib/session.js: @grpc/grpc-js, protobufjs, uuid — used only
 * by buildImage with BuildKit) and docker-modem's SSH transport (docker-modem/lib/ssh.js: ssh2 — used only for a
 * DOCKER_HOST of ssh://). Imported before dockerode (host.ts), this module puts a deferring stand-in for each of
 * those two files into the CommonJS module cache, where dockerode's own `require('./session')` and docker-modem's
 * `require('./ssh')` find it; the real file loads on the first call, so an ssh:// DOCKER_HOST still works.
 * If dockerode has already run, or a future release moves the files, nothing is deferred and all still works.
 */
const require = createRequire(import.meta.url);

function defer(resolveFrom: string, request: string): void {
  let from: NodeJS.Require;
  let path: string;
  try {
    from = createRequire(resolveFrom);
    path = from.resolve(request);
  } catch {
    return;
  }
  if (require.cache[path]) return;
  let real: ((...args: unknown[]) => unknown) | undefined;
  const stub = function (this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      delete require.cache[path];
      const loaded = from(request) as unknown;
      if (typeof loaded !== 'function') throw new Error(`${path} is not a function module; headwatch's lazy loading of it is out of date`);
      real = loaded as (...args: unknown[]) => unknown;
    }
    return real.apply(this, args);
  };
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = stub;
  require.cache[path] = m;
}

function resolved(request: string, from?: string): string | undefined {
  try {
    return from ? createRequire(from).resolve(request) : require.resolve(request);
  } catch {
    return undefined;
  }
}

const dockerode = resolved('dockerode');
// The ESM loader registers an imported CommonJS module in the cache before it runs it (`loaded` still false):
// only one that has run has already required the real files.
if (dockerode && !require.cache[dockerode]?.loaded) {
  defer(dockerode, './session');
  const modem = resolved('docker-modem', dockerode);
  if (modem) defer(modem, './ssh');
}
