import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { dockerClient } from '../../src/sources/docker/host.js';
import { freePort } from './wait.js';

const run = promisify(execFile);

/** PEM files of a throw-away CA, a server certificate for 127.0.0.1 and a client certificate it signed. */
export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * The same openssl commands the README gives operators (Several Docker hosts): one CA, a server certificate
 * whose subjectAltName is the engine's address, and a client certificate for headwatch. EC P-256 keys: quick.
 */
export async function makeCertificates(dir: string, serverIp = '127.0.0.1'): Promise<TestCertificates> {
  const f = (n: string) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca-key.pem'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=headwatch test CA']);
  for (const [who, ext] of [
    ['server', `subjectAltName=IP:${serverIp}\nextendedKeyUsage=serverAuth\n`],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    writeFileSync(f(`${who}.ext`), ext);
    await run('openssl', ['req', ...ec, '-keyout', f(`${who}-key.pem`), '-out', f(`${who}.csr`), '-subj', `/CN=${who === 'server' ? serverIp : 'headwatch'}`]);
    await run('openssl', ['x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-days', '2', '-out', f(`${who}-cert.pem`), '-extfile', f(`${who}.ext`)]);
  }
  return { dir, ca: f('ca.pem'), serverCert: f('server-cert.pem'), serverKey: f('server-key.pem'), clientCert: f('client-cert.pem'), clientKey: f('client-key.pem') };
}

/**
 * A second private Docker engine listening on a loopback TCP port with TLS client verification (--tlsverify),
 * besides its own unix socket (.ci/dockerd.sh, which also imports the test image). headwatch reaches it at
 * tcp://127.0.0.1:<port> with the client certificate; the test's fixtures may use either.
 */
export class TlsDockerd {
  readonly dir = mkdtempSync('/tmp/hwt-');
  port = 0;
  certs: TestCertificates | undefined;
  /** Over TCP with the client certificate, as headwatch connects. */
  docker: Docker | undefined;

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.certs = await makeCertificates(this.dir);
    this.port = await freePort();
    const c = this.certs;
    await run('bash', ['.ci/dockerd.sh', 'start', this.dir], {
      timeout: 120_000,
      env: { ...process.env, HEADWATCH_DOCKERD_ARGS: `-H ${this.url} --tlsverify --tlscacert ${c.ca} --tlscert ${c.serverCert} --tlskey ${c.serverKey}` },
    });
    this.docker = dockerClient(this.url, { ca: readFileSync(c.ca, 'utf8'), cert: readFileSync(c.clientCert, 'utf8'), key: readFileSync(c.clientKey, 'utf8') });
  }

  pid(): number {
    return Number(readFileSync(join(this.dir, 'docker.pid'), 'utf8').trim());
  }

  /** SIGKILL, as a crashed daemon or a host that lost power; its managed containerd goes too. */
  kill(): void {
    for (const pidFile of [join(this.dir, 'docker.pid'), join(this.dir, 'exec/containerd/containerd.pid')]) {
      if (!existsSync(pidFile)) continue;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  async destroy(): Promise<void> {
    try {
      await run('bash', ['.ci/dockerd.sh', 'stop', this.dir], { timeout: 60_000 });
    } finally {
      this.kill();
      // A killed dockerd leaves its data-root bind-mounted on itself.
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(`${this.dir}/`))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
