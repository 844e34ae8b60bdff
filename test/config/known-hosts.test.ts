import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, hostKeyAlgorithms, hostKeys, KnownHostsFile, knownHostName, missingHostKey, parseKnownHosts, readKnownHosts } from '../../src/config/known-hosts.js';

const keyA = Buffer.concat([Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0\x20'), randomBytes(32)]);
const keyB = Buffer.concat([Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0\x20'), randomBytes(32)]);
const ed = (k: Buffer) => `ssh-ed25519 ${k.toString('base64')}`;

/** A hashed name as `ssh-keygen -H` writes it: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const parse = (text: string) => parseKnownHosts(text, '/kh').known;

describe('known_hosts', () => {
  it('names a host as ssh does: plain on port 22, [host]:port otherwise, lower-cased', () => {
    expect(knownHostName('Build.LAN', 22)).toBe('build.lan');
    expect(knownHostName('build.lan', 2222)).toBe('[build.lan]:2222');
    expect(knownHostName(new URL('ssh://ops@[fd00::5]:2222').hostname, 2222)).toBe('[fd00::5]:2222');
    expect(knownHostName('[FD00::5]', 22)).toBe('fd00::5');
  });

  it('finds plain, listed, hashed and [host]:port entries, and only for their own host and port', () => {
    const known = parse(
      [
        '# comment',
        '',
        `build.lan,10.0.0.5 ${ed(keyA)} root@build`,
        `${hashed('[nas.lan]:2222')} ${ed(keyB)}`,
        `[other.lan]:2200 ${ed(keyB)}`,
      ].join('\n'),
    );
    expect(hostKeys(known, '10.0.0.5', 22).keys.map((k) => k.key)).toEqual([keyA]);
    expect(hostKeys(known, 'BUILD.lan', 22).keys.map((k) => k.key)).toEqual([keyA]);
    expect(hostKeys(known, 'build.lan', 2222).keys).toEqual([]);
    expect(hostKeys(known, 'nas.lan', 2222).keys.map((k) => k.key)).toEqual([keyB]);
    expect(hostKeys(known, 'nas.lan', 22).keys).toEqual([]);
    expect(hostKeys(known, 'other.lan', 2200).keys.map((k) => k.keyType)).toEqual(['ssh-ed25519']);
  });

  it('understands * and ? patterns, ! negation and @revoked; @cert-authority alone is said to be unsupported', () => {
    const known = parse(
      [`*.lan,!secret.lan ${ed(keyA)}`, `node?.dc ${ed(keyB)}`, `@revoked *.lan ${ed(keyB)}`, `@cert-authority *.corp ${ed(keyA)}`].join('\n'),
    );
    expect(hostKeys(known, 'nas.lan', 22).keys.map((k) => k.key)).toEqual([keyA]);
    expect(hostKeys(known, 'nas.lan', 22).revoked).toEqual([keyB]);
    expect(hostKeys(known, 'secret.lan', 22).keys).toEqual([]);
    expect(hostKeys(known, 'node1.dc', 22).keys.map((k) => k.key)).toEqual([keyB]);
    expect(hostKeys(known, 'node12.dc', 22).keys).toEqual([]);
    expect(missingHostKey(known, 'db.corp', 22)).toMatch(/only @cert-authority lines in \/kh, and headwatch does not check host certificates/);
    expect(missingHostKey(known, 'new.host', 2022)).toBe(
      "/kh has no host key for [new.host]:2022: add it with `ssh-keyscan -p 2022 new.host >> /kh` after checking the fingerprint it prints against the host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there)",
    );
    expect(missingHostKey(known, 'nas.lan', 22)).toBeUndefined();
  });

  it('refuses a malformed file with its line numbers', () => {
    expect(() => readKnownHosts(join(mkdtempSync(join(tmpdir(), 'hw-kh-')), 'none'))).toThrow(/cannot read .*none \(ENOENT\)/);
    const { problems } = parseKnownHosts(`ok.lan ${ed(keyA)}\njust-a-name\n@marker x ${ed(keyA)}\n|1|onlysalt ${ed(keyA)}\n`, '/kh');
    expect(problems).toEqual([
      '/kh line 2: expected "host[,host…] key-type base64-key"',
      '/kh line 3: unknown marker @marker',
      '/kh line 4: a hashed host name is |1|salt|hash',
    ]);
  });

  it('asks the server for the key types on file (RSA in its SHA-2 forms too) and prints fingerprints as ssh does', () => {
    expect(hostKeyAlgorithms([{ keyType: 'ssh-rsa', key: keyA }, { keyType: 'ssh-ed25519', key: keyB }])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(fingerprint(keyA)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('reads the file again once it changed, so a fixed key needs no restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hw-kh-')), 'known_hosts');
    writeFileSync(path, `build.lan ${ed(keyA)}\n`);
    const file = new KnownHostsFile(path);
    expect(hostKeys(file.current(), 'build.lan', 22).keys.map((k) => k.key)).toEqual([keyA]);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path, `build.lan ${ed(keyB)}\n# replaced\n`);
    expect(hostKeys(file.current(), 'build.lan', 22).keys.map((k) => k.key)).toEqual([keyB]);
  });
});
