import { Repeater } from '../repeat.js';
import type { Logger } from '../../log/logger.js';
import { maskSecrets } from '../../log/logger.js';
import type { Finding } from '../../parsers/finding.js';
import type { ContainerControl } from '../../actions/containers.js';

export interface VersionProbeOptions {
  control: ContainerControl;
  /** How often to ask each container (default 15 min: versions change only on upgrades). */
  intervalMs?: number;
  /** Per exec (default 10 s). */
  timeoutMs?: number;
  logger?: Logger;
  onFinding(f: Finding): void;
}

/**
 * Asks every running watched Tailscale container for its client version (`tailscale version`, argv only,
 * first line = short version, tailscale.md §6.1) and reports `client-version` findings with the container
 * name as origin, for the version-skew detector. Also probes a container right after it (re)starts when
 * the caller forwards `container-state` findings via `observe`.
 */
export class VersionProbe {
  private inFlight: Promise<Finding[]> | undefined;
  /** Containers whose last probe failed (so a failure is logged once, not every interval). */
  private readonly failing = new Set<string>();

  private readonly repeater = new Repeater(
    () => this.probeOnce(Date.now()),
    () => this.opts.intervalMs ?? 900_000,
  );

  constructor(private readonly opts: VersionProbeOptions) {}

  start(): void {
    this.repeater.start();
  }

  async stop(): Promise<void> {
    this.repeater.stop();
    await this.inFlight?.catch(() => undefined);
  }

  /** A Tailscale container (re)started: its version may have changed. */
  observe(f: Finding): void {
    if (f.kind !== 'container-state' || f.state !== 'start' || !this.repeater.active) return;
    const c = this.opts.control.watched().find((w) => w.name === f.origin && w.role === 'tailscale');
    if (c) void this.probeContainer(c.name, Date.now()).catch(() => undefined);
  }

  probeOnce(now: number): Promise<Finding[]> {
    if (this.inFlight) return this.inFlight;
    const targets = this.opts.control.watched().filter((c) => c.role === 'tailscale' && c.running);
    const p = Promise.all(targets.map((c) => this.probeContainer(c.name, now)))
      .then((r) => r.filter((f): f is Finding => f !== undefined))
      .finally(() => {
        this.inFlight = undefined;
      });
    this.inFlight = p;
    return p;
  }

  private async probeContainer(name: string, now: number): Promise<Finding | undefined> {
    let version: string | undefined;
    let problem: string | undefined;
    try {
      const r = await this.opts.control.exec(name, ['tailscale', 'version'], this.opts.timeoutMs ?? 10_000);
      version = r.exitCode === 0 ? parseTailscaleVersion(r.stdout) : undefined;
      if (version === undefined) {
        const detail = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
        problem = `\`tailscale version\` in ${name} ${r.exitCode === 0 ? 'printed no version' : `exited ${r.exitCode}`}${detail ? `: ${maskSecrets(detail.slice(0, 160))}` : ''}`;
      }
    } catch (err) {
      problem = `cannot run \`tailscale version\` in ${name}: ${maskSecrets((err as Error)?.message ?? String(err))}`;
    }
    if (version === undefined) {
      if (!this.failing.has(name)) this.opts.logger?.warn({ container: name }, `${problem}; its client version is unknown, so version skew is not checked for it`);
      this.failing.add(name);
      return undefined;
    }
    this.failing.delete(name);
    const f: Finding = { kind: 'client-version', at: now, origin: name, version, line: `tailscale version: ${version}` };
    try {
      this.opts.onFinding(f);
    } catch (err) {
      this.opts.logger?.error({ err }, 'version probe: finding handler failed');
    }
    return f;
  }
}

/**
 * First line of `tailscale version` (`1.80.3`), of `tailscale version --daemon` (`Client: 1.80.3`), or a long
 * version (`1.80.3-tbd762b827`, reduced to its short form).
 */
export function parseTailscaleVersion(stdout: string): string | undefined {
  const first = stdout.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '');
  if (!first) return undefined;
  const m = /^(?:Client:\s*)?v?(\d+\.\d+(?:\.\d+)?)(?:[-+][\w.-]*)?\s*$/.exec(first.trim());
  return m?.[1];
}
