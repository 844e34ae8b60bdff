import { fingerprint, type Alert, type AlertDraft, type DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import { capVerToMinor, formatMinor, headscaleMinor, parseVersion, releaseCaps } from './capver.js';
import type { Detector } from './detector.js';

export interface SkewOptions {
  /**
   * How many Tailscale minor numbers a client may run ahead of the newest minor the server's table knows
   * before it is flagged (default 4, i.e. two stable releases: 0.25 knows v1.80, so v1.86+ is flagged).
   */
  aheadMarginMinors?: number;
  /** A client not seen again for this long is forgotten and its alert resolved (default 24 h). */
  staleMs?: number;
  /**
   * Also raise version-skew for clients Headscale's log says it rejected. Off by default: the misconfig
   * detector already raises `unsupported-client` for those lines, and one problem should be one alert.
   */
  alertOnRejectedClients?: boolean;
}

interface ServerState {
  version: string;
  minor: number;
  precise: boolean;
  origin: string;
}

interface ClientState {
  subject: string;
  version: string;
  minor: number;
  origin: string;
  nodeId?: string;
  lastSeen: number;
  /** Seen only as a rejection in Headscale's log. */
  rejected?: boolean;
}

type Verdict = { kind: 'below'; min: number } | { kind: 'ahead'; newest: number };

interface Snapshot {
  server?: ServerState;
  minimum?: { minor: number; text: string };
  clients: ClientState[];
  firing: [string, string][];
}

/**
 * Version skew between Headscale and its Tailscale clients, both ways (headscale.md §13, §17):
 * - a client below the server's minimum is rejected and cannot connect (critical);
 * - a client far newer than the newest minor a pinned old server knows is not rejected but has caused
 *   map-response storms with high CPU on both sides (juanfont/headscale#2486) (warning).
 * Server version: `server-version` findings from the API (/version, 0.27+) or the startup log line; the
 * minimum from the table or the server's own `server-minimum-client` log line. Client versions:
 * `client-version` findings (VersionProbe's `tailscale version` per container, or log parsers).
 */
export class SkewDetector implements Detector {
  readonly name = 'skew';
  private server: ServerState | undefined;
  private minimum: { minor: number; text: string } | undefined;
  private clients = new Map<string, ClientState>();
  /** subject → verdict signature of the firing alert. */
  private firing = new Map<string, string>();
  private readonly margin: number;
  private readonly staleMs: number;

  constructor(private readonly opts: SkewOptions = {}) {
    this.margin = opts.aheadMarginMinors ?? 4;
    this.staleMs = opts.staleMs ?? 24 * 3_600_000;
  }

  observe(f: Finding): DetectorEvent[] {
    switch (f.kind) {
      case 'server-version': {
        const minor = headscaleMinor(f.version);
        if (minor === undefined) return [];
        const precise = parseVersion(f.version)?.patch !== undefined && !/[–+]/.test(f.version.replace(/\+dirty$/, ''));
        if (this.server && !precise && this.server.precise && this.server.minor === minor) return [];
        if (this.server && this.server.minor !== minor) this.minimum = undefined; // upgraded: the old minimum no longer applies
        this.server = { version: f.version.replace(/^v/, ''), minor, precise, origin: f.origin };
        return this.evaluateAll();
      }
      case 'server-minimum-client': {
        const v = parseVersion(f.minimumVersion);
        if (!v || v.major !== 1) return [];
        this.minimum = { minor: v.minor, text: f.minimumVersion };
        return this.evaluateAll();
      }
      case 'unsupported-client': {
        const min = parseVersion(f.minimumVersion);
        const out: DetectorEvent[] = [];
        if (min && min.major === 1 && this.minimum?.minor !== min.minor) {
          this.minimum = { minor: min.minor, text: f.minimumVersion! };
          out.push(...this.evaluateAll());
        }
        if (!this.opts.alertOnRejectedClients) return out;
        const minor = parseVersion(f.clientVersion)?.minor ?? (f.clientCapVer !== undefined ? capVerToMinor(f.clientCapVer) : undefined);
        if (minor === undefined) return out;
        const version = f.clientVersion || formatMinor(minor);
        const subject = `rejected client ${version}`;
        this.clients.set(subject, { subject, version, minor, origin: f.origin, lastSeen: f.at, rejected: true });
        return [...out, ...this.evaluate(subject)];
      }
      case 'client-version': {
        const v = parseVersion(f.version);
        if (!v || v.major !== 1) return [];
        const subject = f.nodeId ? `node ${f.nodeId}` : f.origin;
        this.clients.set(subject, {
          subject,
          version: f.version,
          minor: v.minor,
          origin: f.origin,
          lastSeen: f.at,
          ...(f.nodeId ? { nodeId: f.nodeId } : {}),
        });
        return this.evaluate(subject);
      }
      default:
        return [];
    }
  }

  tick(now: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const c of [...this.clients.values()]) {
      if (now - c.lastSeen < this.staleMs) continue;
      this.clients.delete(c.subject);
      if (this.firing.delete(c.subject)) {
        out.push({
          action: 'resolve',
          fingerprint: fingerprint('version-skew', c.subject),
          summary: `Tailscale ${c.version} on ${c.subject} has not been seen for ${Math.round(this.staleMs / 3_600_000)} h; forgetting it.`,
        });
      }
    }
    return out;
  }

  snapshot(): Snapshot {
    return {
      ...(this.server ? { server: this.server } : {}),
      ...(this.minimum ? { minimum: this.minimum } : {}),
      clients: [...this.clients.values()],
      firing: [...this.firing.entries()],
    };
  }

  restore(state: unknown, firing: Alert[]): void {
    const s = state as Partial<Snapshot> | undefined;
    this.server = s?.server;
    this.minimum = s?.minimum;
    this.clients = new Map((s?.clients ?? []).map((c) => [c.subject, c]));
    const saved = new Map(s?.firing ?? []);
    this.firing = new Map();
    for (const a of firing) {
      if (a.kind !== 'version-skew') continue;
      const subject = a.fingerprint.slice('version-skew:'.length);
      this.firing.set(subject, saved.get(subject) ?? '');
      // A stored firing alert without saved client state must still be able to clear (by going stale).
      if (!this.clients.has(subject)) {
        const minor = parseVersion(a.labels.clientVersion)?.minor ?? 0;
        this.clients.set(subject, { subject, version: a.labels.clientVersion ?? '?', minor, origin: subject, lastSeen: Date.parse(a.updatedAt) || 0 });
      }
    }
  }

  private evaluateAll(): DetectorEvent[] {
    return [...this.clients.keys()].flatMap((s) => this.evaluate(s));
  }

  private verdict(c: ClientState): Verdict | undefined {
    const caps = this.server ? releaseCaps(this.server.minor, parseVersion(this.server.version)?.patch) : undefined;
    const min = this.minimum?.minor ?? caps?.minClientMinor;
    if (min !== undefined && c.minor < min) return { kind: 'below', min };
    if (caps && c.minor > caps.newestKnownMinor + this.margin) return { kind: 'ahead', newest: caps.newestKnownMinor };
    return undefined;
  }

  private evaluate(subject: string): DetectorEvent[] {
    const c = this.clients.get(subject);
    if (!c) return [];
    const v = this.verdict(c);
    const fp = fingerprint('version-skew', subject);
    if (!v) {
      if (!this.firing.delete(subject)) return [];
      return [{ action: 'resolve', fingerprint: fp, summary: `Tailscale ${c.version} on ${subject} and ${this.serverText()} are compatible now.` }];
    }
    const signature = `${v.kind}:${c.version}:${this.server?.version ?? ''}:${this.minimum?.text ?? ''}`;
    const was = this.firing.get(subject);
    if (was === signature) return [];
    this.firing.set(subject, signature);
    return [{ action: was === undefined ? 'fire' : 'update', alert: this.draft(c, v) }];
  }

  private serverText(): string {
    return this.server ? `Headscale ${this.server.version}` : 'Headscale';
  }

  private draft(c: ClientState, v: Verdict): AlertDraft {
    const server = this.serverText();
    const where = c.rejected ? `a client (${c.subject})` : c.subject;
    let summary: string;
    let minimumText: string | undefined;
    if (v.kind === 'below') {
      minimumText = this.minimum?.text ?? formatMinor(v.min);
      summary = `Tailscale ${c.version} on ${where} is older than ${server}'s minimum client ${minimumText}: the server rejects it and the node cannot connect. Upgrade Tailscale there to ${minimumText} or newer.`;
    } else {
      summary = `Tailscale ${c.version} on ${where} is newer than anything ${server} knows (newest ${formatMinor(v.newest)}, margin ${this.margin} minor versions). Clients far ahead of a pinned Headscale have caused map-response storms with high CPU on both sides (juanfont/headscale#2486): upgrade Headscale, then re-register the node if the storm continues.`;
    }
    return {
      fingerprint: fingerprint('version-skew', c.subject),
      kind: 'version-skew',
      severity: v.kind === 'below' ? 'critical' : 'warning',
      subject: c.subject,
      summary,
      evidence: [
        `server: ${server}${this.server ? ` (from ${this.server.origin})` : ''}`,
        `client: Tailscale ${c.version} (from ${c.origin})`,
        v.kind === 'below' ? `minimum client: ${minimumText}` : `newest client known to the server: ${formatMinor(v.newest)}`,
      ],
      labels: {
        clientVersion: c.version,
        ...(this.server ? { serverVersion: this.server.version } : {}),
        direction: v.kind,
        ...(c.nodeId ? { nodeId: c.nodeId } : {}),
      },
    };
  }
}
