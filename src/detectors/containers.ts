import { appendEvidence, fingerprint, type Alert, type AlertDraft, type DetectorEvent, type Severity } from '../alerts/model.js';
import type { ContainerInventoryFinding, ContainerStateFinding, Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';
import { dropUpTo } from './window.js';

export interface ContainerLifecycleOptions {
  /** CONTAINER_MISSING_SECONDS in ms: a watched container absent this long (not just being recreated) fires. */
  missingMs: number;
  /** CONTAINER_DOWN_SECONDS in ms: a watched container stopped this long (not restarted by its policy) fires. */
  downMs: number;
  /** CONTAINER_RESTART_COUNT: starts within the window that make a restart loop. */
  restartCount: number;
  /** CONTAINER_RESTART_WINDOW_SECONDS in ms. */
  restartWindowMs: number;
}

type Role = 'headscale' | 'tailscale';

interface Candidate {
  name: string;
  image: string;
  state: string;
}

interface Tracked {
  name: string;
  role?: Role;
  image?: string;
  /** Configured by name (HEADSCALE_CONTAINER, TAILSCALE_CONTAINERS), not found by image. */
  expected: boolean;
  present: boolean;
  running: boolean;
  missingSince?: number;
  missingWhy?: 'absent' | 'removed';
  similar: Candidate[];
  host?: string;
  downSince?: number;
  exitCode?: number;
  oomKilled?: boolean;
  lastLines: string[];
  starts: number[];
  restartCount?: number;
  restartPolicy?: string;
  authKey?: ContainerStateFinding['authKey'];
  /** A `stop` came after the last die: docker stop, so no restart policy brings it back. */
  stoppedOnPurpose?: boolean;
  firing: { missing: boolean; down: boolean; loop: boolean };
  lastLoopUpdate: number;
}

const LOOP_UPDATE_EVERY_MS = 10_000;
/** The engine's longest restart back-off (1 min) and a little: a container may be down that long between restarts. */
const ENGINE_MAX_BACKOFF_MS = 65_000;
/** A `restart` event follows the start it caused within this long. */
const OPERATOR_RESTART_MS = 5_000;
const MAX_SIMILAR = 3;

/**
 * The watched containers themselves: gone (`container-missing`), stopped (`container-down`), or restarting
 * over and over (`container-restart-loop`). Fed by the Docker source's `container-state` findings (from the
 * events stream, enriched with exit code, OOM, the last log lines, restart count and the Tailscale auth-key
 * settings) and its `container-inventory` after every (re)connect.
 *
 * Fire and clear rules: missing after `missingMs` absent (compose recreates a container within seconds), clears
 * when one of that name exists again; down after `downMs` stopped, clears when it runs again, held back while
 * the same container's restart loop fires (one problem, one alert); restart loop at `restartCount` starts within
 * `restartWindowMs` (starts an operator caused with `docker restart` not counted), clears after half the window
 * without a start, or when it is removed.
 */
export class ContainerLifecycleDetector implements Detector {
  readonly name = 'containers';
  private readonly containers = new Map<string, Tracked>();
  private readonly loopQuietMs: number;
  /**
   * Several hosts: the names configured without a host (tracked under that plain name), every host's name, and
   * what each host's latest list holds (plain names). Rebuilt from the inventories after a restart.
   */
  private anyHost: { expected: Map<string, Role>; hosts: string[]; present: Map<string, Candidate[]> } | undefined;

  constructor(private readonly opts: ContainerLifecycleOptions) {
    this.loopQuietMs = Math.max(1000, Math.floor(opts.restartWindowMs / 2));
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind === 'container-inventory') return this.inventory(f);
    if (f.kind !== 'container-state') return [];
    const out = this.state(f);
    if (this.anyHost) out.push(...this.anyHostState(f));
    return out;
  }

  private state(f: ContainerStateFinding): DetectorEvent[] {
    const c = this.track(f.origin);
    if (f.role) c.role = f.role;
    if (f.image) c.image = f.image;
    switch (f.state) {
      case 'start':
        return this.started(c, f);
      case 'die':
        c.present = true;
        c.running = false;
        c.downSince ??= f.at;
        c.exitCode = f.exitCode;
        c.oomKilled = f.oomKilled;
        c.stoppedOnPurpose = false;
        if (f.restartPolicy !== undefined) c.restartPolicy = f.restartPolicy;
        if (f.lastLines) c.lastLines = f.lastLines;
        return []; // down only counts once it lasts: tick() decides
      case 'stop':
        c.stoppedOnPurpose = true;
        return [];
      case 'destroy':
        return this.removed(c, f.at);
      case 'restart':
        // `docker restart` (or /headscale restart): the start it caused was an operator's, not the restart policy's.
        if (c.starts.length > 0 && f.at - c.starts[c.starts.length - 1]! < OPERATOR_RESTART_MS) c.starts.pop();
        return [];
      default:
        return [];
    }
  }

  tick(now: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const c of this.containers.values()) {
      if (!c.firing.missing && c.missingSince !== undefined && now - c.missingSince >= this.opts.missingMs) {
        c.firing.missing = true;
        out.push({ action: 'fire', alert: this.missingDraft(c, now) });
      }
      dropUpTo(c.starts, now - this.opts.restartWindowMs, (t) => t);
      const lastStart = c.starts[c.starts.length - 1];
      if (c.firing.loop && (lastStart === undefined || now - lastStart >= this.loopQuietMs)) {
        c.firing.loop = false;
        out.push({
          action: 'resolve',
          fingerprint: fingerprint('container-restart-loop', c.name),
          summary: c.running
            ? `Container ${c.name} has kept running for ${seconds(this.loopQuietMs)} without restarting.`
            : `Container ${c.name} has not been restarted for ${seconds(this.loopQuietMs)}; it is down now (container-down takes over).`,
        });
      }
      if (!c.firing.down && !c.firing.loop && !c.running && c.present && c.downSince !== undefined && now - c.downSince >= this.downAfter(c)) {
        c.firing.down = true;
        out.push({ action: 'fire', alert: this.downDraft(c, now) });
      }
      if (!c.present && !c.expected && !anyFiring(c) && c.missingSince === undefined) this.containers.delete(c.name);
    }
    return out;
  }

  snapshot(): unknown {
    return { containers: [...this.containers.values()] };
  }

  restore(state: unknown, firing: Alert[]): void {
    for (const c of (state as { containers?: Tracked[] } | undefined)?.containers ?? []) this.containers.set(c.name, { ...c, firing: { missing: false, down: false, loop: false } });
    const kinds = { 'container-missing': 'missing', 'container-down': 'down', 'container-restart-loop': 'loop' } as const;
    for (const a of firing) {
      const which = kinds[a.kind as keyof typeof kinds];
      if (!which) continue;
      const c = this.track(a.subject);
      c.firing[which] = true;
      if (which === 'missing') c.missingSince ??= Date.parse(a.startsAt);
      if (which === 'down') c.downSince ??= Date.parse(a.startsAt);
    }
  }

  /**
   * A container whose policy restarts it may be waiting out the engine's back-off (100 ms doubling up to 1 min)
   * rather than down: give it that long before calling it down. Stopped on purpose or without such a policy, it is
   * down after downMs.
   */
  private downAfter(c: Tracked): number {
    const policy = c.restartPolicy ?? 'no';
    const restartsItself = !c.stoppedOnPurpose && (policy === 'always' || policy === 'unless-stopped' || (policy.startsWith('on-failure') && c.exitCode !== 0));
    return restartsItself ? Math.max(this.opts.downMs, ENGINE_MAX_BACKOFF_MS) : this.opts.downMs;
  }

  // --- events -------------------------------------------------------------------------------------------

  private started(c: Tracked, f: ContainerStateFinding): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    c.present = true;
    c.running = true;
    if (f.restartCount !== undefined) c.restartCount = f.restartCount;
    if (f.restartPolicy !== undefined) c.restartPolicy = f.restartPolicy;
    if (f.authKey !== undefined) c.authKey = f.authKey;
    if (c.missingSince !== undefined || c.firing.missing) out.push(...this.found(c, `Container ${c.name} exists again and is running.`));
    const downFor = c.downSince !== undefined ? f.at - c.downSince : undefined;
    c.downSince = undefined;
    if (c.firing.down) {
      c.firing.down = false;
      out.push({
        action: 'resolve',
        fingerprint: fingerprint('container-down', c.name),
        summary: `Container ${c.name} is running again${downFor !== undefined ? ` after ${seconds(downFor)} down` : ''}.`,
      });
    }
    // A start seen at (re)connect is the state headwatch found, not a restart it watched happen.
    if (f.initial) return out;
    c.starts.push(f.at);
    dropUpTo(c.starts, f.at - this.opts.restartWindowMs, (t) => t);
    if (c.starts.length >= this.opts.restartCount) {
      if (!c.firing.loop) {
        c.firing.loop = true;
        c.lastLoopUpdate = f.at;
        out.push({ action: 'fire', alert: this.loopDraft(c) });
      } else if (f.at - c.lastLoopUpdate >= LOOP_UPDATE_EVERY_MS) {
        c.lastLoopUpdate = f.at;
        out.push({ action: 'update', alert: this.loopDraft(c) });
      }
    }
    return out;
  }

  private removed(c: Tracked, at: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    c.present = false;
    c.running = false;
    c.missingSince ??= at;
    c.missingWhy = 'removed';
    c.downSince = undefined;
    for (const [which, kind] of [['down', 'container-down'], ['loop', 'container-restart-loop']] as const) {
      if (!c.firing[which]) continue;
      c.firing[which] = false;
      out.push({ action: 'resolve', fingerprint: fingerprint(kind, c.name), summary: `Container ${c.name} was removed.` });
    }
    c.starts = [];
    return out;
  }

  private inventory(f: ContainerInventoryFinding): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    if (f.hostName !== undefined && f.anyHost) {
      const prefix = `${f.hostName}/`;
      const a = (this.anyHost ??= { expected: new Map(), hosts: [], present: new Map() });
      a.expected = new Map(f.anyHost.expected.map((e) => [e.name, e.role]));
      a.hosts = f.anyHost.hosts;
      a.present.set(f.hostName, f.present.filter((p) => p.name.startsWith(prefix)).map((p) => ({ ...p, name: p.name.slice(prefix.length) })));
      out.push(...this.weighAnyHost(f.at));
    }
    const present = new Map(f.present.map((p) => [p.name, p]));
    const expected = new Map(f.expected.map((e) => [e.name, e.role]));
    for (const [name, role] of expected) {
      const c = this.track(name);
      c.expected = true;
      c.role = role;
      c.host = f.host;
      const p = present.get(name);
      if (p) {
        c.present = true;
        c.image = p.image;
        if (c.missingSince !== undefined || c.firing.missing) out.push(...this.found(c, `Container ${name} exists again (${p.state}).`));
      } else {
        c.present = false;
        c.running = false;
        c.missingSince ??= f.at;
        c.missingWhy ??= 'absent';
        c.similar = similarContainers(name, role, f.present);
      }
    }
    for (const c of this.containers.values()) {
      if (expected.has(c.name)) continue;
      // Several hosts: one host's list says nothing about another host's containers.
      if (f.hostName !== undefined && !c.name.startsWith(`${f.hostName}/`)) continue;
      c.expected = false;
      c.host = f.host;
      const p = present.get(c.name);
      if (p) {
        if (c.missingSince !== undefined || c.firing.missing) out.push(...this.found(c, `Container ${c.name} exists again (${p.state}).`));
      } else if (f.initial && c.missingSince !== undefined) {
        // Found by image, removed, and headwatch restarted since: nothing names it any more, so it is not missed.
        out.push(...this.found(c, `Container ${c.name} is no longer watched: it was found by its image, and no container of that name exists now.`));
        c.present = false;
      } else if (c.missingSince !== undefined && c.role) {
        c.similar = similarContainers(c.name, c.role, f.present);
      }
    }
    return out;
  }

  /**
   * Several hosts, a name configured without a host: that name on any host will do. It is missing once every
   * host has listed its containers and none has one of that name (a host that stopped answering counts with its
   * last list: its own alert says it is unreachable); it is found again when any host has it.
   */
  private weighAnyHost(at: number): DetectorEvent[] {
    const a = this.anyHost;
    if (!a) return [];
    const out: DetectorEvent[] = [];
    const everyHostListed = a.hosts.every((h) => a.present.has(h));
    for (const [name, role] of a.expected) {
      const c = this.track(name);
      c.expected = true;
      c.role = role;
      c.host = `any Docker host (${a.hosts.join(', ')})`;
      const where = a.hosts.find((h) => a.present.get(h)?.some((p) => p.name === name));
      if (where !== undefined) {
        c.present = true;
        if (c.missingSince !== undefined || c.firing.missing) out.push(...this.found(c, `Container ${where}/${name} exists (${name} is looked for on any host).`));
      } else if (everyHostListed) {
        c.present = false;
        c.running = false;
        c.missingSince ??= at;
        c.missingWhy ??= 'absent';
        // Similar names are scored on the plain names and shown with their host.
        const shown = new Map<Candidate, string>();
        for (const h of a.hosts) for (const p of a.present.get(h) ?? []) shown.set(p, `${h}/${p.name}`);
        c.similar = similarContainers(name, role, [...shown.keys()]).map((s) => ({ ...s, name: shown.get(s) ?? s.name }));
      }
    }
    return out;
  }

  /** A start or removal on one host changes what that host has for the names looked for on any host. */
  private anyHostState(f: ContainerStateFinding): DetectorEvent[] {
    const a = this.anyHost!;
    const slash = f.origin.indexOf('/');
    if (slash <= 0) return [];
    const host = f.origin.slice(0, slash);
    const name = f.origin.slice(slash + 1);
    const listed = a.present.get(host);
    if (!a.expected.has(name) || listed === undefined) return [];
    if (f.state !== 'destroy' && f.state !== 'start') return [];
    const rest = listed.filter((p) => p.name !== name);
    if (f.state === 'start') rest.push({ name, image: f.image ?? '', state: 'running' });
    a.present.set(host, rest);
    // The removed container is judged by its plain name across hosts, not as missing on this host.
    const q = this.containers.get(f.origin);
    if (f.state === 'destroy' && q && !q.expected) {
      q.missingSince = undefined;
      q.missingWhy = undefined;
    }
    return this.weighAnyHost(f.at);
  }

  private found(c: Tracked, summary: string): DetectorEvent[] {
    c.missingSince = undefined;
    c.missingWhy = undefined;
    c.similar = [];
    if (!c.firing.missing) return [];
    c.firing.missing = false;
    return [{ action: 'resolve', fingerprint: fingerprint('container-missing', c.name), summary }];
  }

  private track(name: string): Tracked {
    let c = this.containers.get(name);
    if (!c) {
      c = { name, expected: false, present: true, running: false, similar: [], lastLines: [], starts: [], firing: { missing: false, down: false, loop: false }, lastLoopUpdate: 0 };
      this.containers.set(name, c);
    }
    return c;
  }

  // --- alerts -------------------------------------------------------------------------------------------

  private severity(c: Tracked): Severity {
    return c.role === 'headscale' ? 'critical' : 'warning';
  }

  private missingDraft(c: Tracked, now: number): AlertDraft {
    const what = c.role === 'headscale' ? 'Headscale container' : c.role === 'tailscale' ? 'Tailscale container' : 'container';
    const where = c.host ? ` on ${c.host}` : '';
    const since = seconds(now - (c.missingSince ?? now));
    const similar = c.similar.map((s) => `"${s.name}" (image ${s.image || '?'}, ${s.state})`);
    const lead =
      c.missingWhy === 'removed'
        ? `The watched ${what} "${c.name}" was removed${where} ${since} ago and has not come back.`
        : `No container named "${c.name}"${where} (looked for as the ${what}${c.expected ? `, from ${settingFor(c.role)}` : ''}) for ${since}.`;
    const hint = similar.length > 0 ? ` Containers with a similar name or image: ${similar.join(', ')}.` : ' No container has a similar name or image.';
    return {
      fingerprint: fingerprint('container-missing', c.name),
      kind: 'container-missing',
      severity: this.severity(c),
      subject: c.name,
      summary: `${lead}${hint}`,
      evidence: [`looked for: ${c.name}${c.role ? ` (${c.role})` : ''}`, ...c.similar.map((s) => `exists: ${s.name} image=${s.image} state=${s.state}`)],
      labels: {
        container: c.name,
        ...(c.role ? { role: c.role, setting: settingFor(c.role) } : {}),
        reason: c.missingWhy ?? 'absent',
        ...(c.similar[0] ? { similar: c.similar[0].name } : {}),
      },
    };
  }

  private downDraft(c: Tracked, now: number): AlertDraft {
    const how = exitText(c.exitCode, c.oomKilled);
    const since = seconds(now - (c.downSince ?? now));
    const policy = c.stoppedOnPurpose
      ? ' It was stopped on purpose (docker stop), so its restart policy does not apply.'
      : c.restartPolicy && c.restartPolicy !== 'no'
        ? ` Its restart policy (${c.restartPolicy}) has not brought it back.`
        : ' It has no restart policy, so nothing restarts it.';
    return {
      fingerprint: fingerprint('container-down', c.name),
      kind: 'container-down',
      severity: this.severity(c),
      subject: c.name,
      summary: `Container ${c.name} ${how} and has been down for ${since}.${c.restartPolicy ? policy : ''}`,
      evidence: c.lastLines.length > 0 ? c.lastLines.map((l) => `log: ${l}`) : ['(no log lines before it stopped)'],
      labels: {
        container: c.name,
        ...(c.role ? { role: c.role } : {}),
        ...(c.exitCode !== undefined ? { exitCode: String(c.exitCode) } : {}),
        oomKilled: String(c.oomKilled === true),
        ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
      },
    };
  }

  private loopDraft(c: Tracked): AlertDraft {
    const n = c.starts.length;
    const window = seconds(this.opts.restartWindowMs);
    const last = c.exitCode !== undefined || c.oomKilled ? ` Last stop: ${exitText(c.exitCode, c.oomKilled)}.` : '';
    const count = c.restartCount !== undefined ? ` The engine counts ${c.restartCount} restart${c.restartCount === 1 ? '' : 's'}${c.restartPolicy ? ` (policy ${c.restartPolicy})` : ''}.` : '';
    const auth =
      c.role === 'tailscale' && c.authKey === 'set-without-auth-once'
        ? ' TS_AUTHKEY is set without TS_AUTH_ONCE=true: containerboot re-sends the key on every start, and a key Headscale no longer accepts makes it exit again.'
        : c.role === 'tailscale' && c.authKey === 'set-with-auth-once'
          ? ' TS_AUTHKEY is set with TS_AUTH_ONCE=true, so the key is only used when the node needs a login.'
          : '';
    let evidence: string[] = c.starts.slice(-5).map((t) => `started ${new Date(t).toISOString()}`);
    for (const l of c.lastLines.slice(-5)) evidence = appendEvidence(evidence, `log: ${l}`, 10);
    return {
      fingerprint: fingerprint('container-restart-loop', c.name),
      kind: 'container-restart-loop',
      severity: c.role === 'headscale' || n >= this.opts.restartCount * 3 ? 'critical' : 'warning',
      subject: c.name,
      summary: `Container ${c.name} started ${n} times in ${window}: it keeps exiting and being restarted.${last}${count}${auth}`,
      evidence,
      labels: {
        container: c.name,
        ...(c.role ? { role: c.role } : {}),
        starts: String(n),
        ...(c.restartCount !== undefined ? { restartCount: String(c.restartCount) } : {}),
        ...(c.exitCode !== undefined ? { exitCode: String(c.exitCode) } : {}),
        oomKilled: String(c.oomKilled === true),
        ...(c.authKey ? { authKey: c.authKey } : {}),
      },
    };
  }
}

function anyFiring(c: Tracked): boolean {
  return c.firing.missing || c.firing.down || c.firing.loop;
}

function settingFor(role: Role | undefined): string {
  return role === 'headscale' ? 'HEADSCALE_CONTAINER' : 'TAILSCALE_CONTAINERS';
}

/** What an exit code says, in words: the usual ones are a signal (128 + n) or a program's own error. */
export function exitText(code: number | undefined, oom: boolean | undefined): string {
  if (oom) return `was killed by the kernel's OOM killer (out of memory under its memory limit, exit code ${code ?? 137})`;
  if (code === undefined) return 'stopped';
  if (code === 0) return 'exited with code 0 (it stopped cleanly: docker stop, or its process ended)';
  if (code === 137) return 'was killed (exit code 137, SIGKILL: docker kill, or a stop that timed out)';
  if (code === 143) return 'was stopped (exit code 143, SIGTERM)';
  if (code > 128 && code < 160) return `was ended by signal ${code - 128} (exit code ${code})`;
  return `exited with code ${code}`;
}

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/**
 * Containers an operator may have meant: the same name under a compose project prefix or replica suffix
 * (`stack-headscale-1`), a name one or two edits away, or an image of the right kind.
 */
export function similarContainers(name: string, role: Role, present: Candidate[]): Candidate[] {
  const want = name.toLowerCase();
  const core = (n: string) => n.toLowerCase().replace(/[-_]\d+$/, '');
  const scored: { c: Candidate; score: number }[] = [];
  for (const p of present) {
    if (p.name === name) continue;
    const n = p.name.toLowerCase();
    let score = 0;
    if (core(n) === want || core(n).endsWith(`-${want}`) || core(n).endsWith(`_${want}`)) score = 4;
    else if (want.length >= 3 && (n.includes(want) || (n.length >= 3 && want.includes(n)))) score = 3;
    else if (editDistance(n, want) <= 2) score = 2;
    if (p.image.toLowerCase().includes(role)) score += 1;
    if (score > 0) scored.push({ c: p, score: score + (p.state === 'running' ? 0.5 : 0) });
  }
  return scored
    .sort((a, b) => b.score - a.score || a.c.name.localeCompare(b.c.name))
    .slice(0, MAX_SIMILAR)
    .map((s) => s.c);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
