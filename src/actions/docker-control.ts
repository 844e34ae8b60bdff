import { setMaxListeners } from 'node:events';
import type Docker from 'dockerode';
import { FrameDemuxer } from '../sources/docker/frames.js';
import { describeHost, dockerClient, explainDockerError, statusCodeOf } from '../sources/docker/host.js';
import type { WatchedContainer, WatchedContainers } from '../sources/docker/types.js';
import type { ContainerControl, ExecResult } from './containers.js';

const EXEC_OUTPUT_CAP = 1024 * 1024;

/**
 * The ContainerControl actions use: restart a container, run argv in it (exec, never a shell string). Its
 * own client to the same engine as the Docker source, whose watched list it hands on; the source only
 * observes. stop() abandons execs still running (headwatch is shutting down).
 */
export class DockerControl implements ContainerControl {
  private readonly docker: Docker;
  private readonly host: string;
  private life = new AbortController();

  constructor(private readonly o: { dockerHost?: string; containers: WatchedContainers }) {
    this.docker = dockerClient(o.dockerHost);
    this.host = describeHost(o.dockerHost);
    setMaxListeners(0, this.life.signal);
  }

  watched(): WatchedContainer[] {
    return this.o.containers.watched();
  }

  stop(): void {
    this.life.abort();
    this.life = new AbortController();
    setMaxListeners(0, this.life.signal);
  }

  async restart(name: string): Promise<{ startedAt: string }> {
    const c = this.docker.getContainer(name);
    try {
      // No `t`: the engine then uses the container's own stop timeout, as `docker restart` does.
      await c.restart();
      const info = await c.inspect();
      return { startedAt: info.State.StartedAt };
    } catch (err) {
      throw new Error(this.containerError(name, 'restart', err));
    }
  }

  async startedAt(name: string): Promise<string | undefined> {
    try {
      return (await this.docker.getContainer(name).inspect()).State.StartedAt;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw new Error(this.containerError(name, 'inspect', err));
    }
  }

  async exec(name: string, argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
      throw new TypeError('exec needs the command as a non-empty array of strings (argv), never a shell string');
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([deadline, this.life.signal]);
    let exec: Docker.Exec;
    let stream: NodeJS.ReadableStream;
    try {
      exec = await this.docker.getContainer(name).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
      stream = (await exec.start({ hijack: true, stdin: false, abortSignal: signal } as Docker.ExecStartOptions)) as NodeJS.ReadableStream;
    } catch (err) {
      throw new Error(this.containerError(name, `run ${argv[0]} in`, err));
    }
    const out = await collect(stream, signal, () =>
      deadline.aborted
        ? `${argv[0]} in container ${name} did not finish within ${Math.round(timeoutMs / 1000)} s; it may still be running inside the container`
        : `headwatch is stopping; ${argv[0]} in container ${name} was abandoned`,
    );
    // The exit code is set a moment after the output closes.
    let exitCode: number | null = null;
    for (let i = 0; i < 40 && !signal.aborted; i++) {
      const info = await exec.inspect();
      if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) {
        exitCode = info.ExitCode;
        break;
      }
      await sleep(25);
    }
    return { exitCode: exitCode ?? -1, ...out };
  }

  private containerError(name: string, what: string, err: unknown): string {
    const code = statusCodeOf(err);
    if (code === 404) return `cannot ${what} container ${name}: there is no container named "${name}" on ${this.host}`;
    if (code === 409) return `cannot ${what} container ${name}: it is not running (start it first)`;
    return `cannot ${what} container ${name}: ${explainDockerError(err, this.host)}`;
  }
}

/** Reads an exec's multiplexed output (each stream capped at 1 MiB) until it ends, or rejects when `signal` aborts. */
async function collect(stream: NodeJS.ReadableStream, signal: AbortSignal, abortReason: () => string): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], sizes: { stdout: 0, stderr: 0 } };
  const demux = new FrameDemuxer((type, payload) => {
    if (out.sizes[type] >= EXEC_OUTPUT_CAP) return;
    const part = payload.subarray(0, EXEC_OUTPUT_CAP - out.sizes[type]);
    out[type].push(Buffer.from(part));
    out.sizes[type] += part.length;
  });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      reject(new Error(abortReason()));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.on('error', () => {
      /* the end/close that follows settles the promise; an abort already rejected it */
    });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
  });
  return { stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
