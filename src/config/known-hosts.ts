import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * OpenSSH's known_hosts file (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"), for checking the host key of ssh://
 * Docker hosts: dockerode's ssh transport (ssh2) checks none by itself. Read here rather than taken from npm: the
 * packages there are unmaintained, and the part needed is small — plain and hashed (`|1|salt|hash`) host names,
 * `[host]:port`, `*`/`?` patterns, `!` negation and the `@revoked` marker. `@cert-authority` lines (host
 * certificates) are not understood and are said to be so when they are all a host has.
 */

interface Entry {
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Comma-separated patterns, or one hashed name. */
  patterns?: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
}

export interface KnownHosts {
  path: string;
  entries: Entry[];
}

/** What a host has in the file. */
export interface HostKeys {
  /** Accepted key blobs with their types. */
  keys: { keyType: string; key: Buffer }[];
  revoked: Buffer[];
  /** Lines for the host that headwatch cannot use (host certificates). */
  certificateAuthorities: number;
}

/** HEADWATCH_SSH_KNOWN_HOSTS when unset: the file the ssh CLI uses. */
export function defaultKnownHostsPath(): string {
  return join(process.env.HOME || homedir(), '.ssh', 'known_hosts');
}

/** The name known_hosts uses for a host: plain on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  const h = bareHost(host).toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** URL.hostname keeps an IPv6 address in brackets; known_hosts and ssh-keyscan write it bare. */
function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

export function parseKnownHosts(text: string, path: string): { known: KnownHosts; problems: string[] } {
  const entries: Entry[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: Entry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push(`${path} line ${i + 1}: unknown marker ${m}`);
        return;
      }
    }
    const [names, keyType, keyText] = fields;
    if (names === undefined || keyType === undefined || keyText === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) {
      problems.push(`${path} line ${i + 1}: expected "host[,host…] key-type base64-key"`);
      return;
    }
    const entry: Entry = { line: i + 1, keyType, key: Buffer.from(keyText, 'base64'), ...(marker ? { marker } : {}) };
    if (names.startsWith('|1|')) {
      const [salt, hash] = names.slice(3).split('|');
      if (!salt || !hash) {
        problems.push(`${path} line ${i + 1}: a hashed host name is |1|salt|hash`);
        return;
      }
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = names.toLowerCase().split(',').filter((p) => p !== '');
    }
    entries.push(entry);
  });
  return { known: { path, entries }, problems };
}

/** Reads and parses the file; throws an Error whose message names the file and what is wrong. */
export function readKnownHosts(path: string): KnownHosts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const { known, problems } = parseKnownHosts(text, path);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return known;
}

function glob(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

function matches(e: Entry, name: string): boolean {
  if (e.hashed) {
    const h = createHmac('sha1', e.hashed.salt).update(name).digest();
    return h.length === e.hashed.hash.length && timingSafeEqual(h, e.hashed.hash);
  }
  let positive = false;
  for (const p of e.patterns ?? []) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1), name)) return false;
    } else if (glob(p, name)) positive = true;
  }
  return positive;
}

export function hostKeys(known: KnownHosts, host: string, port: number): HostKeys {
  const name = knownHostName(host, port);
  const out: HostKeys = { keys: [], revoked: [], certificateAuthorities: 0 };
  for (const e of known.entries) {
    if (!matches(e, name)) continue;
    if (e.marker === 'revoked') out.revoked.push(e.key);
    else if (e.marker === 'cert-authority') out.certificateAuthorities++;
    else out.keys.push({ keyType: e.keyType, key: e.key });
  }
  return out;
}

/** How ssh prints a key: `SHA256:` and the unpadded base64 of its digest. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Why `host:port` cannot be checked against the file, or undefined when it has a key there. */
export function missingHostKey(known: KnownHosts, host: string, port: number): string | undefined {
  const k = hostKeys(known, host, port);
  if (k.keys.length > 0) return undefined;
  const scan = `ssh-keyscan${port === 22 ? '' : ` -p ${port}`} ${bareHost(host)}`;
  if (k.certificateAuthorities > 0) {
    return `${knownHostName(host, port)} has only @cert-authority lines in ${known.path}, and headwatch does not check host certificates: add the host's own key (${scan}, after checking its fingerprint)`;
  }
  return `${known.path} has no host key for ${knownHostName(host, port)}: add it with \`${scan} >> ${known.path}\` after checking the fingerprint it prints against the host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there)`;
}

/** The algorithms ssh2 may ask the server for, given the key types the file holds for it (ssh picks the same way). */
export function hostKeyAlgorithms(keys: HostKeys['keys']): string[] {
  const out = new Set<string>();
  for (const { keyType } of keys) {
    if (keyType === 'ssh-rsa') for (const a of ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']) out.add(a);
    else out.add(keyType);
  }
  return [...out];
}

/**
 * The file as it is now: read again when it changed (the operator fixed a key), so the next connection uses
 * the fix without a restart.
 */
export class KnownHostsFile {
  private cached: { mtimeMs: number; size: number; known: KnownHosts } | undefined;

  constructor(readonly path: string) {}

  current(): KnownHosts {
    const st = statSync(this.path);
    if (this.cached && this.cached.mtimeMs === st.mtimeMs && this.cached.size === st.size) return this.cached.known;
    const known = readKnownHosts(this.path);
    this.cached = { mtimeMs: st.mtimeMs, size: st.size, known };
    return known;
  }
}
