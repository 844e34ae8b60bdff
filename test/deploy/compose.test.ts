import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

/**
 * docker-compose.example.yml is what operators copy: it must be a valid Compose file (Debian's docker-compose
 * checks it), wire headwatch to Docker only through the socket proxy with the same rules CI tests, and give
 * headwatch (with chat, and in the no-chat variant of its comment) a configuration headwatch accepts.
 */
const FILE = 'docker-compose.example.yml';
const PROXY_RULES = 'deploy/docker-proxy/haproxy.cfg';
const text = readFileSync(FILE, 'utf8');

interface Service {
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  networks?: string[];
  network_mode?: string;
  secrets?: string[];
  user?: string;
}
const compose = parse(text) as { services: Record<string, Service>; networks: Record<string, { internal?: boolean }>; secrets: Record<string, { file: string }> };
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name} in ${FILE}`);
  return s;
};

const dockerCompose = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).stdout.trim();
if (!dockerCompose && process.env.HEADWATCH_REQUIRE_DOCKER === '1') throw new Error('HEADWATCH_REQUIRE_DOCKER=1 but docker-compose is not installed (Debian package docker-compose)');
const withCompose = dockerCompose ? it : it.skip;

const dir = mkdtempSync(join(tmpdir(), 'hw-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** headwatch's environment as the container would see it: secrets as files, NAME_FILE pointing at them. */
function containerEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.endsWith('_FILE') && v.startsWith('/run/secrets/')) {
      const file = join(dir, v.slice('/run/secrets/'.length));
      writeFileSync(file, `secret-for-${k}\n`);
      out[k] = file;
    } else out[k] = String(v);
  }
  return { ...out, HEADWATCH_DB: join(dir, 'headwatch.db') };
}

describe(FILE, () => {
  withCompose("is a valid Compose file for Debian's docker-compose", () => {
    const r = spawnSync(dockerCompose, ['-f', FILE, 'config', '-q'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('pins Headscale to the current release and runs a Tailscale client that keeps its identity', () => {
    expect(svc('headscale').image).toBe('headscale/headscale:0.29.8');
    expect(svc('headscale').volumes).toContain('./deploy/headscale/config.yaml:/etc/headscale/config.yaml:ro');
    expect(existsSync('deploy/headscale/config.yaml')).toBe(true);
    const ts = svc('tailscale');
    expect(ts.image).toMatch(/^tailscale\/tailscale:v\d+\.\d+\.\d+$/);
    expect(ts.environment).toMatchObject({ TS_STATE_DIR: '/var/lib/tailscale', TS_AUTH_ONCE: 'true' });
    expect(ts.environment?.TS_EXTRA_ARGS).toMatch(/--login-server=https?:\/\/\S+/);
    expect(ts.volumes?.some((v) => v.endsWith(':/var/lib/tailscale'))).toBe(true);
    // Its own network namespace: not the host's, not another container's.
    expect(ts.network_mode).toBeUndefined();
  });

  it('gives headwatch Docker only through the proxy, and the proxy the very rules CI tests', () => {
    const hw = svc('headwatch');
    expect(hw.environment?.DOCKER_HOST).toBe('tcp://docker-proxy:2375');
    expect((hw.volumes ?? []).some((v) => v.includes('docker.sock'))).toBe(false);
    const proxy = svc('docker-proxy');
    const rules = (proxy.volumes ?? []).find((v) => v.endsWith(':/usr/local/etc/haproxy/haproxy.cfg:ro'));
    expect(rules && resolve(rules.split(':')[0]!)).toBe(resolve(PROXY_RULES));
    // …the file CI starts HAProxy with in front of its engine for the Docker test suite.
    expect(readFileSync('.ci/docker-proxy.sh', 'utf8')).toContain(`/${PROXY_RULES}"`);
    expect(proxy.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    expect(proxy.image).toMatch(/^haproxy:2\.6/);
    // Every proxy setting the file sets is one the rules read, and the Docker API network leads nowhere else.
    const cfg = readFileSync(PROXY_RULES, 'utf8');
    for (const k of Object.keys(proxy.environment ?? {})) expect(cfg, k).toMatch(new RegExp(`env\\(${k}\\)|\\$\\{${k}[-}]`));
    expect(proxy.networks).toEqual(['docker-api']);
    expect(compose.networks['docker-api']).toEqual({ internal: true });
    expect(hw.networks).toContain('docker-api');
    for (const [name, s] of Object.entries(compose.services)) if (name !== 'headwatch' && name !== 'docker-proxy') expect(s.networks ?? [], name).not.toContain('docker-api');
  });

  it("sets only settings headwatch has, and headwatch accepts them (secrets read from files)", () => {
    const env = svc('headwatch').environment ?? {};
    const known = new Set(Object.keys(configSchema.shape));
    for (const k of Object.keys(env)) expect(known.has(k) || (k.endsWith('_FILE') && known.has(k.slice(0, -5))) || k === 'DOCKER_HOST', k).toBe(true);
    for (const s of svc('headwatch').secrets ?? []) expect(compose.secrets[s], s).toBeDefined();
    const config = loadConfig({ dotenvPath: false, env: containerEnv(env) });
    expect(config.DOCKER_HOST).toBe('tcp://docker-proxy:2375');
    expect(config.SLACK_BOT_TOKEN).toBe('secret-for-SLACK_BOT_TOKEN_FILE');
    expect(config.HEADSCALE_API_KEY).toBe('secret-for-HEADSCALE_API_KEY_FILE');
  });

  it('describes a no-chat variant (console + signed webhook) that headwatch accepts', () => {
    const block = text.slice(text.indexOf('# Without chat'));
    const variant = Object.fromEntries(
      [...block.matchAll(/^\s*#\s+([A-Z][A-Z0-9_]+): ("?)([^"#\s]+)\2/gm)].map((m) => [m[1]!, m[3]!]),
    );
    expect(Object.keys(variant).sort()).toEqual(['HEADWATCH_CONSOLE', 'HEADWATCH_WEBHOOK_SECRET_FILE', 'HEADWATCH_WEBHOOK_URL']);
    const chat = /^(SLACK_|DISCORD_)/;
    const base = Object.fromEntries(Object.entries(svc('headwatch').environment ?? {}).filter(([k]) => !chat.test(k)));
    const config = loadConfig({ dotenvPath: false, env: containerEnv({ ...base, ...variant }) });
    expect(config.HEADWATCH_WEBHOOK_URL).toBe('https://alerts.example.com/headwatch');
    expect(config.HEADWATCH_WEBHOOK_SECRET).toBe('secret-for-HEADWATCH_WEBHOOK_SECRET_FILE');
    expect(config.SLACK_BOT_TOKEN).toBeUndefined();
  });
});

// The same rules file, checked as HAProxy itself reads it (when it is installed; CI installs it).
const haproxy = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
(haproxy ? it : it.skip)(`${PROXY_RULES} is a valid HAProxy configuration`, () => {
  const out = execFileSync(haproxy, ['-c', '-f', PROXY_RULES], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  expect(out).toContain('Configuration file is valid');
});
