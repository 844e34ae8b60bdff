import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// First: defers the parts of dockerode headwatch does not use (see the file) before dockerode loads.
import './lean-dockerode.js';
import Docker from 'dockerode';
import { isSsh, type DockerTls } from '../../config/docker-hosts.js';
import { defaultKnownHostsPath, fingerprint, hostKeyAlgorithms, hostKeys, KnownHostsFile, knownHostName, missingHostKey } from '../../config/known-hosts.js';

/**
 * Builds a dockerode client for a DOCKER_HOST value. Unset (or equal to the process's own DOCKER_HOST) leaves
 * everything to docker-modem, which already reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, except an
 * ssh:// engine, which is always built here so its host key is checked (`knownHosts`, a known_hosts file). A value
 * that only came from a .env file has to be translated here, following the same conventions as the Docker CLI.
 */
export function dockerClient(dockerHost?: string, tls?: DockerTls, knownHosts?: string): Docker {
  // An ssh:// engine, even one docker-modem would find in DOCKER_HOST itself: only this client checks its host key.
  const effective = dockerHost ?? process.env.DOCKER_HOST;
  if (effective !== undefined && isSsh(effective)) return sshClient(effective, knownHosts ?? defaultKnownHostsPath());
  if (tls && dockerHost) {
    // HEADWATCH_DOCKER_TLS_<NAME>_*: this host's own client certificates, whatever DOCKER_CERT_PATH says.
    const url = new URL(dockerHost);
    return new Docker({ protocol: 'https', host: url.hostname, port: url.port || 2376, ca: tls.ca, cert: tls.cert, key: tls.key });
  }
  if (dockerHost === undefined || dockerHost === process.env.DOCKER_HOST) return new Docker();
  // `host: undefined`: docker-modem merges its defaults from the process's DOCKER_HOST, and a host from there
  // would win over the socket path given here.
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) || '/var/run/docker.sock', host: undefined });
  if (dockerHost.startsWith('npipe://')) return new Docker({ socketPath: dockerHost.slice('npipe://'.length), host: undefined });
  let url: URL;
  try {
    url = new URL(dockerHost.includes('//') ? dockerHost : `tcp://${dockerHost}`);
  } catch {
    throw new Error(`DOCKER_HOST "${dockerHost}" is not understood: use unix:///path/docker.sock, tcp://host:2375 or ssh://user@host`);
  }
  const https = process.env.DOCKER_TLS_VERIFY === '1' || url.port === '2376' || url.protocol === 'https:';
  const certPath = process.env.DOCKER_CERT_PATH;
  return new Docker({
    protocol: https ? 'https' : 'http',
    host: url.hostname,
    port: url.port || (https ? 2376 : 2375),
    ...(https && certPath
      ? {
          ca: readFileSync(join(certPath, 'ca.pem')),
          cert: readFileSync(join(certPath, 'cert.pem')),
          key: readFileSync(join(certPath, 'key.pem')),
        }
      : {}),
  });
}

/** Why the last connection to an ssh host (by its known_hosts name) was refused: for explainDockerError. */
const hostKeyRefusals = new Map<string, string>();

/**
 * dockerode's ssh transport (docker-modem → ssh2), with the host key checked against `knownHostsPath` on every
 * connection, as ssh does with StrictHostKeyChecking: an unknown or changed key refuses the connection (ssh2
 * checks none by itself). The file is read again when it changes, so a fixed key needs no restart. The server
 * is asked for the key types the file holds for it, so it presents one that can be checked.
 */
function sshClient(dockerHost: string, knownHostsPath: string): Docker {
  const url = new URL(dockerHost);
  const port = Number(url.port || 22);
  const file = new KnownHostsFile(knownHostsPath);
  const name = knownHostName(url.hostname, port);
  let algorithms: string[] = [];
  try {
    algorithms = hostKeyAlgorithms(hostKeys(file.current(), url.hostname, port).keys);
  } catch {
    // Unreadable now: every connection is refused below, with the reason.
  }
  const hostVerifier = (key: Buffer): boolean => {
    let refusal: string | undefined;
    try {
      const known = hostKeys(file.current(), url.hostname, port);
      if (known.revoked.some((k) => k.equals(key))) refusal = `the ssh host key of ${name} (${fingerprint(key)}) is marked @revoked in ${knownHostsPath}`;
      else if (known.keys.length === 0) refusal = missingHostKey(file.current(), url.hostname, port);
      else if (!known.keys.some((k) => k.key.equals(key))) {
        refusal = `the ssh host key of ${name} (${fingerprint(key)}) is not the one in ${knownHostsPath}: the host was reinstalled or something is in between; check the fingerprint on the host, then replace its line (ssh-keygen -R '${name}' -f ${knownHostsPath})`;
      }
    } catch (err) {
      refusal = `cannot check the ssh host key of ${name}: ${(err as Error).message}`;
    }
    if (refusal === undefined) {
      hostKeyRefusals.delete(name);
      return true;
    }
    hostKeyRefusals.set(name, refusal);
    return false;
  };
  return new Docker({
    protocol: 'ssh',
    host: url.hostname,
    port,
    username: url.username || undefined,
    sshOptions: { agent: process.env.SSH_AUTH_SOCK, hostVerifier, ...(algorithms.length > 0 ? { algorithms: { serverHostKey: algorithms } } : {}) },
  } as Docker.DockerOptions);
}

/**
 * The recorded host-key refusal for the ssh:// address in `host` (the address alone, or `name (address)` with
 * several hosts), if its last connection was refused for its key.
 */
function hostKeyRefusal(host: string): string | undefined {
  const address = /ssh:\/\/[^\s)]+/i.exec(host)?.[0];
  if (address === undefined) return undefined;
  try {
    const u = new URL(address);
    return hostKeyRefusals.get(knownHostName(u.hostname, Number(u.port || 22)));
  } catch {
    return undefined;
  }
}

/** Where the engine is, for messages: the configured host or what dockerode will use by default. */
export function describeHost(dockerHost?: string): string {
  return dockerHost ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** HTTP status of a failed Docker API call, when the engine answered at all. */
export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * One line an operator can act on, from a dockerode/socket error: which engine, what failed, what to check.
 * Never a stack trace.
 */
export function explainDockerError(err: unknown, host: string): string {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } | string };
  const code = e?.code;
  if (e instanceof Error && e.message.includes('Host denied')) {
    return `${host}: ${hostKeyRefusal(host) ?? 'the ssh host key was refused (HEADWATCH_SSH_KNOWN_HOSTS)'}`;
  }
  if (code === 'ENOENT') return `no Docker socket at ${host} (is dockerd running? is DOCKER_HOST right?)`;
  if (code === 'ECONNREFUSED') return `connection refused by ${host} (is dockerd running? is DOCKER_HOST right?)`;
  if (code === 'EACCES') return `permission denied on ${host} (run headwatch as a user in the docker group or mount the socket readable)`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection to ${host} was reset (the engine restarted or a proxy closed it)`;
  if (code === 'ETIMEDOUT' || e?.name === 'TimeoutError' || e?.name === 'AbortError') return `${host} did not answer in time`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host in DOCKER_HOST ${host}`;
  if (typeof e?.statusCode === 'number') {
    const body = typeof e.json === 'object' && e.json?.message ? e.json.message : (e.message ?? '').replace(/^\(HTTP code \d+\)\s*/, '');
    // 403 is never the engine's own answer to these calls: a socket proxy (or an authorization plugin) refused
    // one of them. Its text says which permission is missing; say what to do with it.
    if (e.statusCode === 403) {
      return `${host} refused the call (HTTP 403, a permission headwatch needs is missing): ${body.trim().slice(0, 300)}. Grant it where Docker access is restricted (for the socket proxy: its settings in docker-compose.yml, rules in deploy/docker-proxy/haproxy.cfg)`;
    }
    return `${host} answered HTTP ${e.statusCode}: ${body.trim().slice(0, 200)}`;
  }
  const msg = e instanceof Error ? e.message : String(err);
  return `${host}: ${msg.split('\n')[0]?.slice(0, 200) ?? 'unknown error'}`;
}
