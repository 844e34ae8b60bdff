import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { dockerHosts } from '../../src/config/docker-hosts.js';

const load = (env: Record<string, string>) => loadConfig({ env, dotenvPath: false });
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
/** A real ed25519 public key blob (ssh-keygen output), as known_hosts lines hold it. */
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n';

function problems(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  throw new Error('expected the settings to be refused');
}

describe('HEADWATCH_DOCKER_HOSTS', () => {
  it('DOCKER_HOST alone (or nothing) is one host named local', () => {
    expect(dockerHosts(load({ DOCKER_HOST: 'unix:///run/d.sock' }))).toEqual([{ name: 'local', url: 'unix:///run/d.sock' }]);
    expect(dockerHosts(load({}))).toEqual([{ name: 'local' }]);
  });

  it('parses name=url pairs of unix, tcp and ssh engines in order', () => {
    const knownHosts = join(mkdtempSync(join(tmpdir(), 'hw-kh-')), 'known_hosts');
    writeFileSync(knownHosts, `build.lan ${ED25519}\n`);
    const c = load({ HEADWATCH_DOCKER_HOSTS: ' vps=unix:///var/run/docker.sock, nas=tcp://nas.lan:2375 ,build-1=ssh://ops@build.lan', HEADWATCH_SSH_KNOWN_HOSTS: knownHosts });
    expect(dockerHosts(c)).toEqual([
      { name: 'vps', url: 'unix:///var/run/docker.sock' },
      { name: 'nas', url: 'tcp://nas.lan:2375' },
      { name: 'build-1', url: 'ssh://ops@build.lan', knownHosts },
    ]);
  });

  it('refuses an ssh:// host whose key is not in the known_hosts file, saying what to run; a missing file names the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-kh-'));
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `other.lan ${ED25519}\n[build.lan]:22 ${ED25519}\n`);
    const p = problems({ HEADWATCH_DOCKER_HOSTS: 'a=ssh://ops@build.lan:2222,b=ssh://ops@other.lan', HEADWATCH_SSH_KNOWN_HOSTS: knownHosts });
    expect(p).toContain(`host "a" (ssh://ops@build.lan:2222): ${knownHosts} has no host key for [build.lan]:2222: add it with \`ssh-keyscan -p 2222 build.lan >> ${knownHosts}\``);
    expect(p).not.toContain('host "b"');
    // A plain DOCKER_HOST over ssh is checked the same way.
    const missing = problems({ DOCKER_HOST: 'ssh://ops@build.lan', HEADWATCH_SSH_KNOWN_HOSTS: join(dir, 'nope') });
    expect(missing).toContain(`HEADWATCH_SSH_KNOWN_HOSTS: cannot read ${join(dir, 'nope')} (ENOENT); headwatch checks the host key of every ssh:// Docker host (local=ssh://ops@build.lan)`);
    // Without ssh hosts the file is never needed.
    expect(() => load({ DOCKER_HOST: 'tcp://nas.lan:2375', HEADWATCH_SSH_KNOWN_HOSTS: join(dir, 'nope') })).not.toThrow();
  });

  it('refuses DOCKER_HOST together with HEADWATCH_DOCKER_HOSTS, naming both', () => {
    const p = problems({ DOCKER_HOST: 'unix:///a.sock', HEADWATCH_DOCKER_HOSTS: 'a=unix:///a.sock,b=tcp://b:2375' });
    expect(p).toMatch(/DOCKER_HOST and HEADWATCH_DOCKER_HOSTS are both set/);
  });

  it('names each bad entry: duplicate or clashing names, bad characters, unknown schemes, missing ports', () => {
    const p = problems({ HEADWATCH_DOCKER_HOSTS: 'a=unix:///a.sock,a=unix:///b.sock,nas-1=tcp://x:1,nas_1=tcp://y:1,b/c=tcp://z:1,h=http://h:2375,t=tcp://t,junk' });
    expect(p).toContain('HEADWATCH_DOCKER_HOSTS: host "a" is listed twice');
    expect(p).toContain('hosts "nas-1" and "nas_1" would share the TLS variables HEADWATCH_DOCKER_TLS_NAS_1_*');
    expect(p).toContain('host name "b/c" must be');
    expect(p).toContain('host "h": "http://h:2375" must start with unix://, tcp:// or ssh://');
    expect(p).toContain('host "t": "tcp://t" needs a port');
    expect(p).toContain('"junk" is not name=url');
  });

  it('reads TLS client certificates per host, inline PEM or _FILE, upper-cased name with other characters as _', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-tls-'));
    writeFileSync(join(dir, 'key.pem'), KEY);
    const c = load({
      HEADWATCH_DOCKER_HOSTS: 'nas-1=tcp://nas:2376,vps=unix:///v.sock',
      HEADWATCH_DOCKER_TLS_NAS_1_CA: CERT,
      HEADWATCH_DOCKER_TLS_NAS_1_CERT: CERT.replace(/\n/g, '\\n'),
      HEADWATCH_DOCKER_TLS_NAS_1_KEY_FILE: join(dir, 'key.pem'),
    });
    const [nas, vps] = dockerHosts(c);
    expect(nas?.tls).toEqual({ ca: CERT, cert: CERT, key: KEY });
    expect(vps?.tls).toBeUndefined();
  });

  it('TLS is all three or nothing, PEM-looking, readable, for a tcp host that exists; never echoing the key', () => {
    const secret = 'not-a-pem-but-a-secret-value';
    const p = problems({
      HEADWATCH_DOCKER_HOSTS: 'a=tcp://a:2376,b=tcp://b:2376,u=unix:///u.sock',
      HEADWATCH_DOCKER_TLS_A_CA: CERT,
      HEADWATCH_DOCKER_TLS_A_CERT: CERT,
      HEADWATCH_DOCKER_TLS_B_CA: CERT,
      HEADWATCH_DOCKER_TLS_B_CERT: CERT,
      HEADWATCH_DOCKER_TLS_B_KEY: secret,
      HEADWATCH_DOCKER_TLS_U_CA_FILE: '/nonexistent/ca.pem',
      HEADWATCH_DOCKER_TLS_NAAS_CA: CERT,
    });
    expect(p).toContain('HEADWATCH_DOCKER_TLS_A_KEY: host "a" has HEADWATCH_DOCKER_TLS_A_CA, HEADWATCH_DOCKER_TLS_A_CERT but TLS needs all three');
    expect(p).toContain('HEADWATCH_DOCKER_TLS_B_KEY: does not look like PEM');
    expect(p).toContain('HEADWATCH_DOCKER_TLS_U_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)');
    expect(p).toMatch(/HEADWATCH_DOCKER_TLS_NAAS_CA belongs to no host in HEADWATCH_DOCKER_HOSTS \(a → HEADWATCH_DOCKER_TLS_A_\*/);
    expect(p).not.toContain(secret);
  });

  it('refuses TLS for a host that is not tcp://, and TLS variables without HEADWATCH_DOCKER_HOSTS', () => {
    expect(problems({ HEADWATCH_DOCKER_HOSTS: 'u=unix:///u.sock', HEADWATCH_DOCKER_TLS_U_CA: CERT, HEADWATCH_DOCKER_TLS_U_CERT: CERT, HEADWATCH_DOCKER_TLS_U_KEY: KEY })).toMatch(
      /HEADWATCH_DOCKER_TLS_U_\*: host "u" is unix:\/\/\/u.sock; TLS client certificates apply to tcp:\/\/ hosts only/,
    );
    expect(problems({ HEADWATCH_DOCKER_TLS_X_CA: CERT })).toMatch(/HEADWATCH_DOCKER_TLS_X_CA is set but HEADWATCH_DOCKER_HOSTS is not/);
  });

  it('host/container in HEADSCALE_CONTAINER, TAILSCALE_CONTAINERS and HEADWATCH_RESTARTABLE must name a configured host', () => {
    const ok = load({ HEADWATCH_DOCKER_HOSTS: 'vps=unix:///v.sock,nas=tcp://nas:2375', HEADSCALE_CONTAINER: 'vps/headscale', TAILSCALE_CONTAINERS: 'nas/ts,ts-any', HEADWATCH_RESTARTABLE: 'nas/ts' });
    expect(ok.HEADSCALE_CONTAINER).toBe('vps/headscale');
    const p = problems({ HEADWATCH_DOCKER_HOSTS: 'vps=unix:///v.sock', TAILSCALE_CONTAINERS: 'nass/ts', HEADWATCH_RESTARTABLE: 'x/y' });
    expect(p).toContain('TAILSCALE_CONTAINERS: "nass/ts" names host "nass", which is not configured (hosts: vps)');
    expect(p).toContain('HEADWATCH_RESTARTABLE: "x/y" names host "x"');
  });
});
