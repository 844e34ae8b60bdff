import { setMaxListeners } from 'node:events';
import type Docker from 'dockerode';
import { FrameDemuxer } from '../sources/docker/frames.js';
import type { DockerHostSetting } from '../config/docker-hosts.js';
import { describeHost, dockerClient, explainDockerError, statusCodeOf } from '../sources/docker/host.js';
import { ambiguityMessage, nameOnHost, splitContainerRef } from '../sources/docker/names.js';
import type { WatchedContainer, WatchedContainers } from '../sources/docker/types.js';
import type { ContainerControl, ExecResult } from './containers.js';

/** One engine actions can reach: its client and where it is, for messages. */
interface Engine {
  name: string;
  docker: Docker;
  where: string;
}

/** The engine and the name on it a headwatch container name (`host/container`, or plain) means. */
interface Target {
  engine: Engine;
  container: string;
}

const EXEC_OUTPUT_CAP = 1024 * 1024;

/**
 * The ContainerControl actions use: restart a container, run argv in it (exec, never a shell string). Its
 * own client to each engine the Docker sources watch, whose watched list it hands on; the sources only
 * observe. With several hosts a name is `host/container`, or a plain name found on exactly one host (two hosts
 * with it: an error listing both). stop() abandons execs still running (headwatch is shutting down).
 */
export class DockerControl implements ContainerControl {
  private readonly engines: Engine[];
  private life = new AbortController();

  constructor(private readonly o: { dockerHost?: string; hosts?: DockerHostSetting[]; containers: WatchedContainers }) {
    const hosts = o.hosts ?? [{ name: 'local', ...(o.dockerHost ? { url: o.dockerHost } : {}) }];
    const several = hosts.length > 1;
    this.engines = hosts.map((h) => ({
      name: h.name,
      docker: dockerClient(h.url, h.tls, h.knownHosts),
      where: several ? `${h.name} (${describeHost(h.url)})` : describeHost(h.url),
    }));
    setMaxListeners(0, this.life.signal);
  }

  watched(): WatchedContainer[] {
    return this.o.containers.watched();
  }

  hosts(): string[] {
    return this.engines.map((e) => e.name);
  }

  /**
   * Which engine a name means. A plain name with several hosts: the host watching it, else every host is
   * asked; none or more than one is an error naming the hosts.
   */
  private async target(name: string): Promise<Target> {
    const ref = splitContainerRef(name);
    if (this.engines.length === 1) {
      const only = this.engines[0]!;
      if (ref.host !== undefined && ref.host !== only.name) throw new Error(`there is no Docker host "${ref.host}" (the only host is ${only.name})`);
      return { engine: only, container: ref.container };
    }
    if (ref.host !== undefined) {
      const engine = this.engines.find((e) => e.name === ref.host);
      if (!engine) throw new Error(`there is no Docker host "${ref.host}" (hosts: ${this.hosts().join(', ')})`);
      return { engine, container: ref.container };
    }
    const watchedOn = this.watched().filter((c) => nameOnHost(c) === ref.container && c.host !== undefined);
    let on = [...new Set(watchedOn.map((c) => c.host!))];
    if (on.length === 0) {
      const found = await Promise.all(
        this.engines.map((e) =>
          e.docker
            .getContainer(ref.container)
            .inspect()
            .then(() => e.name)
            .catch(() => undefined),
        ),
      );
      on = found.filter((n): n is string => n !== undefined);
    }
    if (on.length > 1) throw new Error(ambiguityMessage(ref.container, on.map((h) => `${h}/${ref.container}`)));
    if (on.length === 0) throw new Error(`there is no container named "${ref.container}" on any Docker host (${this.hosts().join(', ')})`);
    return { engine: this.engines.find((e) => e.name === on[0])!, container: ref.container };
  }

  stop(): void {
    this.life.abort();
    this.life = new AbortController();
    setMaxListeners(0, this.life.signal);
  }

  async restart(name: string): Promise<{ startedAt: string }> {
    const t = await this.targetFor(name, 'restart');
    const c = t.engine.docker.getContainer(t.container);
    try {
      // No `t`: the engine then uses the container's own stop timeout, as `docker restart` does.
      await c.restart();
      const info = await c.inspect();
      return { startedAt: info.State.StartedAt };
    } catch (err) {
      throw new Error(this.containerError(name, t, 'restart', err));
    }
  }

  private async targetFor(name: string, what: string): Promise<Target> {
    try {
      return await this.target(name);
    } catch (err) {
      throw new Error(`cannot ${what} container ${name}: ${(err as Error).message}`);
    }
  }

  async startedAt(name: string): Promise<string | undefined> {
    const t = await this.targetFor(name, 'inspect');
    try {
      return (await t.engine.docker.getContainer(t.container).inspect()).State.StartedAt;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw new Error(this.containerError(name, t, 'inspect', err));
    }
  }

  async exec(name: string, argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
      throw new TypeError('exec needs the command as a non-empty array of strings (argv), never a shell string');
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([deadline, this.life.signal]);
    const t = await this.targetFor(name, `run ${argv[0]} in`);
    let exec: Docker.Exec;
    let stream: NodeJS.ReadableStream;
    try {
      exec = await t.engine.docker.getContainer(t.container).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
      stream = (await exec.start({ hijack: true, stdin: false, abortSignal: signal } as Docker.ExecStartOptions)) as NodeJS.ReadableStream;
    } catch (err) {
      throw new Error(this.containerError(name, t, `run ${argv[0]} in`, err));
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

  private containerError(name: string, t: Target, what: string, err: unknown): string {
    const code = statusCodeOf(err);
    if (code === 404) return `cannot ${what} container ${name}: there is no container named "${t.container}" on ${t.engine.where}`;
    if (code === 409) return `cannot ${what} container ${name}: it is not running (start it first)`;
    return `cannot ${what} container ${name}: ${explainDockerError(err, t.engine.where)}`;
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
