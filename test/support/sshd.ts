import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, until } from './wait.js';

const run = promisify(execFile);

/** Whether this machine can run a private sshd and an ssh-agent (root, Debian's openssh-server and client). */
export async function sshdAvailable(): Promise<boolean> {
  try {
    await run('sh', ['-c', 'test -x /usr/sbin/sshd && command -v ssh-agent && command -v ssh-add && command -v ssh-keygen && command -v docker && [ "$(id -u)" = 0 ]']);
    return true;
  } catch {
    return false;
  }
}

/**
 * A private OpenSSH server on a loopback port, accepting one generated key for root, and an ssh-agent holding
 * that key: what `ssh://user@host` needs (docker-modem's ssh transport runs `docker system dial-stdio` over it).
 * Sessions get DOCKER_HOST set to `engine`, so the remote side's docker CLI reaches the suite's private engine.
 */
export class PrivateSshd {
  readonly dir = mkdtempSync(join(tmpdir(), 'hwssh-'));
  port = 0;
  /** The agent's socket: SSH_AUTH_SOCK for the client. */
  readonly agentSocket = join(this.dir, 'agent.sock');
  private sshd: ChildProcess | undefined;
  private agentPid: number | undefined;

  constructor(private readonly engine: string) {}

  async start(): Promise<void> {
    const d = this.dir;
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'host_key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'client_key')]);
    copyFileSync(join(d, 'client_key.pub'), join(d, 'authorized_keys'));
    chmodSync(join(d, 'authorized_keys'), 0o600);
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory
    this.port = await freePort();
    writeFileSync(
      join(d, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(d, 'host_key')}`,
        `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        `PidFile ${join(d, 'sshd.pid')}`,
        `SetEnv DOCKER_HOST=${this.engine}`,
        '',
      ].join('\n'),
    );
    // -D: stays in the foreground, so this process owns it and stops it by its pid.
    this.sshd = spawn('/usr/sbin/sshd', ['-D', '-f', join(d, 'sshd_config'), '-E', join(d, 'sshd.log')], { stdio: 'ignore' });
    const agent = await run('ssh-agent', ['-s', '-a', this.agentSocket]);
    this.agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
    await run('ssh-add', ['-q', join(d, 'client_key')], { env: { ...process.env, SSH_AUTH_SOCK: this.agentSocket } });
    await until(
      'the private sshd to accept a session',
      async () =>
        run('ssh', ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-p', String(this.port), 'root@127.0.0.1', 'true'], {
          env: { ...process.env, SSH_AUTH_SOCK: this.agentSocket },
        }).then(
          () => true,
          () => false,
        ),
      15_000,
      200,
    );
  }

  /** This server's line for a known_hosts file: `[127.0.0.1]:port` and its host key, as ssh-keyscan prints it. */
  knownHostsLine(): string {
    const [type, key] = readFileSync(join(this.dir, 'host_key.pub'), 'utf8').trim().split(/\s+/);
    return `[127.0.0.1]:${this.port} ${type} ${key}`;
  }

  /** The server's log, for a failing test's message. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'sshd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  stop(): void {
    this.sshd?.kill('SIGTERM');
    if (this.agentPid) {
      try {
        process.kill(this.agentPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
