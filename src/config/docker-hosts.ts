import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defaultKnownHostsPath, missingHostKey, readKnownHosts, type KnownHosts } from './known-hosts.js';

/** TLS client material for one tcp:// engine (PEM text), from HEADWATCH_DOCKER_TLS_<NAME>_CA/_CERT/_KEY. */
export interface DockerTls {
  ca: string;
  cert: string;
  key: string;
}

/** One Docker engine headwatch watches: its name (shown as `name/container`), where it is, and its TLS files. */
export interface DockerHostSetting {
  name: string;
  /** unix:///path, tcp://host:port or ssh://user@host[:port]; undefined = dockerode's default (DOCKER_HOST or the local socket). */
  url?: string;
  tls?: DockerTls;
  /** ssh:// hosts: the known_hosts file their host key is checked against (HEADWATCH_SSH_KNOWN_HOSTS). */
  knownHosts?: string;
}

/** The one host of a plain DOCKER_HOST (or none at all) keeps today's behaviour and this name. */
export const LOCAL_HOST = 'local';

// No `/`: it separates the host from the container in `host/container`. Short: it prefixes every container name.
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** The <NAME> part of HEADWATCH_DOCKER_TLS_<NAME>_CA: upper-cased, every other character `_`. */
export function tlsVariablePrefix(host: string): string {
  return `HEADWATCH_DOCKER_TLS_${host.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

/** Why a host URL cannot be used, or undefined when it can. */
function urlProblem(url: string): string | undefined {
  const m = /^([a-z]+):\/\//i.exec(url);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme === 'unix') return url.length > 'unix://'.length && url.startsWith('unix:///') ? undefined : 'a unix:// address needs an absolute socket path, such as unix:///var/run/docker.sock';
  if (scheme !== 'tcp' && scheme !== 'ssh') return 'must start with unix://, tcp:// or ssh://';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a valid address';
  }
  if (!u.hostname) return 'names no host';
  if (u.pathname !== '' && u.pathname !== '/') return 'must not have a path (tcp://host:port, ssh://user@host)';
  if (scheme === 'tcp' && !u.port) return 'needs a port (2376 for TLS, 2375 without)';
  if (u.password) return 'must not carry a password (ssh uses the agent at SSH_AUTH_SOCK)';
  return undefined;
}

/** HEADWATCH_DOCKER_HOSTS: `name=url,name=url`, names unique (also as TLS variable names), URLs understood. */
export const dockerHostList = z.string().transform((v, ctx): DockerHostSetting[] => {
  const out: DockerHostSetting[] = [];
  const problems: string[] = [];
  const prefixes = new Map<string, string>();
  for (const part of v.split(',')) {
    const entry = part.trim();
    if (!entry) continue;
    const i = entry.indexOf('=');
    if (i <= 0) {
      problems.push(`"${entry}" is not name=url; write pairs like nas=tcp://nas.lan:2376,vps=unix:///var/run/docker.sock`);
      continue;
    }
    const name = entry.slice(0, i).trim();
    const url = entry.slice(i + 1).trim();
    if (!HOST_NAME.test(name)) {
      problems.push(`host name "${name}" must be 1–32 letters, digits, . _ or - (no /: containers are named host/container)`);
      continue;
    }
    const prefix = tlsVariablePrefix(name);
    const clash = prefixes.get(prefix);
    if (clash !== undefined) {
      problems.push(clash === name ? `host "${name}" is listed twice` : `hosts "${clash}" and "${name}" would share the TLS variables ${prefix}*; rename one`);
      continue;
    }
    prefixes.set(prefix, name);
    const bad = urlProblem(url);
    if (bad) {
      problems.push(`host "${name}": "${url}" ${bad}`);
      continue;
    }
    out.push({ name, url });
  }
  if (problems.length === 0 && out.length === 0) problems.push('lists no host; write name=url pairs or leave it unset to use DOCKER_HOST');
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
  return problems.length > 0 ? z.NEVER : out;
});

const PEM: Record<keyof DockerTls, RegExp> = {
  ca: /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/,
  cert: /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/,
  key: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]+-----END (?:[A-Z]+ )?PRIVATE KEY-----/,
};
const SUFFIX: Record<keyof DockerTls, string> = { ca: 'CA', cert: 'CERT', key: 'KEY' };

/**
 * Reads each host's TLS client certificates from the environment (PEM text, or _FILE naming a file), all three
 * or none, and refuses TLS variables that belong to no configured host (a typo would silently mean no TLS).
 * Mutates `hosts` (adds `tls`); returns the problems, each naming its variable. Values are never echoed.
 */
export function resolveDockerTls(hosts: DockerHostSetting[] | undefined, env: Record<string, string>): string[] {
  const problems: string[] = [];
  const known = new Set<string>();
  for (const host of hosts ?? []) {
    const prefix = tlsVariablePrefix(host.name);
    const got: Partial<DockerTls> = {};
    const given: string[] = [];
    for (const part of ['ca', 'cert', 'key'] as const) {
      const name = prefix + SUFFIX[part];
      known.add(name).add(`${name}_FILE`);
      const inline = env[name];
      const file = env[`${name}_FILE`];
      if (inline && file) {
        problems.push(`${name} and ${name}_FILE are both set; set only one`);
        continue;
      }
      let text: string | undefined;
      let from = name;
      if (file) {
        from = `${name}_FILE`;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
          given.push(name);
          continue;
        }
      } else if (inline) {
        // Inline PEM in a .env file often has its line breaks written as \n.
        text = inline.replace(/\\n/g, '\n');
      }
      if (text === undefined) continue;
      given.push(name);
      if (!PEM[part].test(text)) {
        problems.push(`${from}: does not look like PEM (${part === 'key' ? 'expected -----BEGIN … PRIVATE KEY-----' : 'expected -----BEGIN CERTIFICATE-----'})`);
        continue;
      }
      got[part] = text;
    }
    if (given.length === 0) continue;
    if (!host.url?.toLowerCase().startsWith('tcp://')) {
      problems.push(`${prefix}*: host "${host.name}" is ${host.url ?? 'not a tcp:// engine'}; TLS client certificates apply to tcp:// hosts only`);
      continue;
    }
    if (given.length < 3) {
      const missing = (['ca', 'cert', 'key'] as const).map((p) => prefix + SUFFIX[p]).filter((n) => !given.includes(n));
      problems.push(`${missing.join(', ')}: host "${host.name}" has ${given.join(', ')} but TLS needs all three (CA, CERT and KEY, or their _FILE variants)`);
      continue;
    }
    if (got.ca && got.cert && got.key) host.tls = { ca: got.ca, cert: got.cert, key: got.key };
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith('HEADWATCH_DOCKER_TLS_') || known.has(name) || !env[name]) continue;
    problems.push(
      hosts
        ? `${name} belongs to no host in HEADWATCH_DOCKER_HOSTS (${hosts.map((h) => `${h.name} → ${tlsVariablePrefix(h.name)}*`).join(', ')})`
        : `${name} is set but HEADWATCH_DOCKER_HOSTS is not; TLS client certificates are per host of HEADWATCH_DOCKER_HOSTS`,
    );
  }
  return problems;
}

/** The engines to watch: HEADWATCH_DOCKER_HOSTS, or the one host `local` at DOCKER_HOST (or dockerode's default). */
export function dockerHosts(c: {
  DOCKER_HOST?: string | undefined;
  HEADWATCH_DOCKER_HOSTS?: DockerHostSetting[] | undefined;
  HEADWATCH_SSH_KNOWN_HOSTS?: string | undefined;
}): DockerHostSetting[] {
  const listed = c.HEADWATCH_DOCKER_HOSTS && c.HEADWATCH_DOCKER_HOSTS.length > 0 ? c.HEADWATCH_DOCKER_HOSTS : [{ name: LOCAL_HOST, ...(c.DOCKER_HOST ? { url: c.DOCKER_HOST } : {}) }];
  const knownHosts = c.HEADWATCH_SSH_KNOWN_HOSTS ?? defaultKnownHostsPath();
  return listed.map((h) => (isSsh(h.url) ? { ...h, knownHosts } : h));
}

/** An ssh:// engine address (its host key is checked against known_hosts). */
export function isSsh(url: string | undefined): boolean {
  return url?.toLowerCase().startsWith('ssh://') === true;
}

/**
 * Every ssh:// host must have its host key in the known_hosts file, checked at start so the operator learns it
 * before the first connection is refused. Problems name the variable, the host and what to run.
 */
export function resolveSshKnownHosts(hosts: DockerHostSetting[]): string[] {
  const ssh = hosts.filter((h) => isSsh(h.url));
  if (ssh.length === 0) return [];
  const path = ssh[0]!.knownHosts ?? defaultKnownHostsPath();
  let known: KnownHosts;
  try {
    known = readKnownHosts(path);
  } catch (err) {
    return [
      `HEADWATCH_SSH_KNOWN_HOSTS: ${(err as Error).message}; headwatch checks the host key of every ssh:// Docker host (${ssh.map((h) => `${h.name}=${h.url}`).join(', ')}) against it, as ssh does`,
    ];
  }
  const problems: string[] = [];
  for (const h of ssh) {
    const u = new URL(h.url!);
    const missing = missingHostKey(known, u.hostname, Number(u.port || 22));
    if (missing) problems.push(`host "${h.name}" (${h.url}): ${missing}`);
  }
  return problems;
}
