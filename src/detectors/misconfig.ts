import { appendEvidence, fingerprint, type Alert, type AlertKind, type DetectorEvent, type Severity } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';

export interface MisconfigOptions {
  /** A misconfiguration alert clears after this long without another offending line (default 15 min). */
  quietMs?: number;
}

interface Open {
  fingerprint: string;
  kind: AlertKind;
  subject: string;
  lastAt: number;
  hits: number;
  evidence: string[];
  lastUpdateAt: number;
}

const UPDATE_EVERY_MS = 30_000;

/** Noise-upgrade causes that mean a proxy in front of Headscale dropped the `Upgrade` handshake. */
const PROXY_CAUSES = ['no next protocol in HTTP request', 'no tailscale handshake header', 'client requested unhandled next protocol'];

/** `unexpected HTTP response: 301 Moved Permanently` texts from the client's error, for the summary. */
function proxyAnswer(error: string): string {
  const answers = [...error.matchAll(/unexpected HTTP response: ([^,)]+)/g)].map((m) => m[1]!.trim());
  if (answers.length > 0) return [...new Set(answers)].join(', ');
  const m = /server switched to unexpected protocol "?([^",)]*)"?/.exec(error);
  return m ? `switched to protocol ${m[1]}` : 'unexpected answer';
}

/**
 * Lines that are a diagnosis on their own: a reverse proxy not passing the /ts2021 upgrade, a client
 * Headscale refuses as too old, a client forced onto port 443 against a plain-HTTP server. They fire at once
 * carrying the offending line and clear after a quiet period.
 */
export class MisconfigDetector implements Detector {
  readonly name = 'misconfig';
  private readonly open = new Map<string, Open>();
  private readonly quietMs: number;

  constructor(opts: MisconfigOptions = {}) {
    this.quietMs = opts.quietMs ?? 15 * 60_000;
  }

  observe(f: Finding): DetectorEvent[] {
    switch (f.kind) {
      case 'proxy-no-upgrade':
        return this.hit(f, 'proxy-misconfigured', 'critical', f.origin, () =>
          f.endpoint === 'ts2021'
            ? `Headscale (${f.origin}) receives /ts2021 requests without an Upgrade header: the reverse proxy in front of it is not passing the upgrade (WebSockets / "Upgrade: tailscale-control-protocol" on POST). Clients cannot connect and will loop.`
            : `Headscale (${f.origin}) receives DERP requests without an Upgrade header: the reverse proxy is not passing WebSocket upgrades to the embedded DERP server.`,
        );
      case 'noise-upgrade-failed':
        if (!PROXY_CAUSES.some((c) => f.cause.includes(c))) return [];
        return this.hit(f, 'proxy-misconfigured', 'critical', f.origin, () =>
          `Headscale (${f.origin}) cannot upgrade client connections to Noise (${f.cause}): a proxy between clients and Headscale strips the upgrade handshake.`,
        );
      case 'control-error':
        // The client's side of the same misconfiguration: a proxy answered the /ts2021 upgrade itself.
        if (f.class !== 'proxy') return [];
        return this.hit(f, 'proxy-misconfigured', 'critical', f.origin, () =>
          `Tailscale in ${f.origin} gets an HTTP answer instead of the control protocol upgrade from ${f.peer ?? 'the control server'} (${proxyAnswer(f.error)}): a reverse proxy in front of Headscale answers /ts2021 itself (redirect, 4xx) instead of passing "Upgrade: tailscale-control-protocol" on POST through. Fix the proxy's /ts2021 route; clients cannot connect until then.`,
        );
      case 'unsupported-client': {
        const who = f.clientVersion || (f.clientCapVer !== undefined ? `capability ${f.clientCapVer}` : 'unknown version');
        const min = f.minimumVersion || (f.minimumCapVer !== undefined ? `capability ${f.minimumCapVer}` : 'its minimum');
        return this.hit(f, 'unsupported-client', 'warning', `client ${who}`, () =>
          `Headscale (${f.origin}) rejects a Tailscale client ${who}: below the server's minimum ${min}. Upgrade that client (or pin a Headscale release that still supports it).`,
        );
      }
      case 'forced-443':
        return this.hit(f, 'forced-443-loop', 'warning', f.origin, () =>
          `Tailscale in ${f.origin} is forcing port 443 on quick re-dials of the control server. With a plain-HTTP (http://) Headscale on a non-443 port this is a reconnect loop: serve Headscale over HTTPS on 443 (or behind a TLS proxy) and point --login-server at the https:// URL.`,
        );
      default:
        return [];
    }
  }

  tick(now: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const o of this.open.values()) {
      if (now - o.lastAt >= this.quietMs) {
        this.open.delete(o.fingerprint);
        out.push({
          action: 'resolve',
          fingerprint: o.fingerprint,
          summary: `No more offending lines for ${o.subject} in ${Math.round(this.quietMs / 60_000)} min (${o.hits} seen in total)`,
        });
      }
    }
    return out;
  }

  snapshot(): unknown {
    return { open: [...this.open.values()] };
  }

  restore(state: unknown, firing: Alert[]): void {
    const mine = new Set<AlertKind>(['proxy-misconfigured', 'unsupported-client', 'forced-443-loop']);
    const firingFps = new Set(firing.filter((a) => mine.has(a.kind)).map((a) => a.fingerprint));
    for (const o of (state as { open?: Open[] } | undefined)?.open ?? []) if (firingFps.has(o.fingerprint)) this.open.set(o.fingerprint, { ...o });
    for (const a of firing) {
      if (mine.has(a.kind) && !this.open.has(a.fingerprint)) {
        this.open.set(a.fingerprint, { fingerprint: a.fingerprint, kind: a.kind, subject: a.subject, lastAt: Date.parse(a.updatedAt), hits: 1, evidence: a.evidence, lastUpdateAt: 0 });
      }
    }
  }

  private hit(f: Finding, kind: AlertKind, severity: Severity, subject: string, summary: () => string): DetectorEvent[] {
    const fp = fingerprint(kind, subject);
    let o = this.open.get(fp);
    const isNew = !o;
    if (!o) {
      o = { fingerprint: fp, kind, subject, lastAt: f.at, hits: 0, evidence: [], lastUpdateAt: f.at };
      this.open.set(fp, o);
    }
    o.hits++;
    o.lastAt = f.at;
    if (f.line) o.evidence = appendEvidence(o.evidence, f.line, 5);
    if (!isNew && f.at - o.lastUpdateAt < UPDATE_EVERY_MS) return [];
    o.lastUpdateAt = f.at;
    const alert = { fingerprint: fp, kind, severity, subject, summary: `${summary()}${o.hits > 1 ? ` (${o.hits} times)` : ''}`, evidence: o.evidence, labels: { origin: f.origin } };
    return [{ action: isNew ? 'fire' : 'update', alert }];
  }
}
