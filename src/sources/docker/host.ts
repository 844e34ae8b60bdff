import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// First: defers the parts of dockerode headwatch does not use (see the file) before dockerode loads.
import './lean-dockerode.js';
import Docker from 'dockerode';
import type { DockerTls } from '../../config/docker-hosts.js';

/**
 * Builds a dockerode client for a DOCKER_HOST value. Unset (or equal to the process's own DOCKER_HOST) leaves
 * everything to docker-modem, which already reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. A value
 * that only came from a .env file has to be translated here, following the same conventions as the Docker CLI.
 */
export function dockerClient(dockerHost?: string, tls?: DockerTls): Docker {
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
  if (url.protocol === 'ssh:') {
    return new Docker({
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || 22,
      username: url.username || undefined,
      sshOptions: { agent: process.env.SSH_AUTH_SOCK },
    } as Docker.DockerOptions);
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
