import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger, maskSecrets } from '../../src/log/logger.js';
import { loadConfig } from '../../src/config/load.js';

const KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET\n-----END PRIVATE KEY-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';

it("a Docker host's TLS key never reaches the log: not as a field of the config, not inside a message", () => {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger('info', out as never);
  const config = loadConfig({
    dotenvPath: false,
    env: { HEADWATCH_DOCKER_HOSTS: 'nas=tcp://nas:2376', HEADWATCH_DOCKER_TLS_NAS_CA: CERT, HEADWATCH_DOCKER_TLS_NAS_CERT: CERT, HEADWATCH_DOCKER_TLS_NAS_KEY: KEY },
  });
  log.info({ config }, 'settings');
  log.info({ host: config.HEADWATCH_DOCKER_HOSTS![0] }, 'host');
  log.warn(`bad key ${KEY}`);
  const all = lines.join('');
  expect(all).toContain('nas');
  expect(all).not.toContain('SECRETSECRET');
  expect(maskSecrets(`x ${KEY} y`)).not.toContain('SECRETSECRET');
});
