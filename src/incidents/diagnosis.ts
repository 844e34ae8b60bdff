import type { Alert } from '../alerts/model.js';
import { formatMinor, headscaleMinor, parseVersion, releaseCaps } from '../detectors/capver.js';
import type { ContainerFacts } from '../sources/docker/facts.js';
import { AUTH_FAILURE, PROXY_ANSWER, type NotableLine } from './evidence.js';
import { CAUSE_NAMES, CAUSE_TITLES, type Cause, type CauseName, type FirstStep } from './model.js';
import { imageWith, isMaintained, NEWEST_RELEASE, OLDEST_MAINTAINED_MINOR, upgradePath } from './releases.js';

/**
 * The diagnosis of an incident: which known causes have evidence, ranked by how much. Pure: everything it
 * reads is in the input, so each cause is tested with exactly its own evidence. A cause without evidence is
 * left out; when none has any the incident says so rather than guess.
 *
 * Weights say how directly a fact points at a cause: an alert that names the cause (version-skew,
 * proxy-misconfigured) weighs most, a matching setting next, a symptom the cause is known to produce least.
 */
export interface DiagnosisInput {
  /** Member alerts that count: the firing ones while the incident is open, all of them once it resolved. */
  members: Alert[];
  /** The Tailscale containers of the incident. */
  containers: ContainerFacts[];
  server: {
    version?: string;
    /** Where the version was read (`headscale-api`, the container log). */
    versionFrom?: string;
    /** The Headscale container, when watched. */
    container?: ContainerFacts & { id?: string };
  };
  /** `tailscale version` per container name. */
  clientVersions: Record<string, string>;
  /** Notable lines of the incident's containers and the server within the window. */
  notable: NotableLine[];
  /** Container (re)starts seen within the window, per container name. */
  starts: Record<string, number>;
  /** How far ahead of a server's newest known client a client may be (the skew detector's margin). */
  aheadMarginMinors?: number;
}

const TIE_ORDER: Record<CauseName, number> = Object.fromEntries(CAUSE_NAMES.map((n, i) => [n, i])) as Record<CauseName, number>;
const MAX_EVIDENCE = 6;

class Builder {
  score = 0;
  readonly evidence: string[] = [];
  add(weight: number, ...lines: string[]): void {
    this.score += weight;
    for (const l of lines) if (l && !this.evidence.includes(l)) this.evidence.push(l);
  }
  cause(name: CauseName, fix: string, firstStep?: FirstStep): Cause | undefined {
    if (this.score <= 0) return undefined;
    return { name, title: CAUSE_TITLES[name], score: this.score, evidence: this.evidence.slice(-MAX_EVIDENCE), fix, ...(firstStep ? { firstStep } : {}) };
  }
}

const of = (input: DiagnosisInput, kind: string) => input.members.filter((a) => (a.kind as string) === kind);
const symptoms = (input: DiagnosisInput) => input.members.some((a) => ['node-flapping', 'ratelimit-flood', 'cpu-sustained', 'map-response-storm'].includes(a.kind));

export function diagnose(input: DiagnosisInput): Cause[] {
  const causes = [versionSkew(input), proxyNoUpgrade(input), forced443(input), sharedNamespace(input), staleAuthKey(input), mapResponseStorm(input), headscaleTooOld(input)];
  return causes.filter((c): c is Cause => c !== undefined).sort((a, b) => b.score - a.score || TIE_ORDER[a.name] - TIE_ORDER[b.name]);
}

/** The first thing to do, when the top cause is one an upgrade fixes and re-registering does not. */
export function firstStep(causes: Cause[]): FirstStep | undefined {
  return causes[0]?.firstStep;
}

function upgradeHeadscale(input: DiagnosisInput): FirstStep | undefined {
  const from = input.server.version;
  const path = from ? upgradePath(from) : undefined;
  const to = path?.[0] ?? (from ? undefined : NEWEST_RELEASE);
  if (!to) return undefined;
  const image = input.server.container?.image;
  const next = image ? imageWith(image, to) : undefined;
  return {
    kind: 'upgrade-headscale',
    to,
    ...(from ? { from } : {}),
    ...(image && next ? { imageChange: `image: ${image} → image: ${next}` } : {}),
    path: path ?? [to],
  };
}

function pathText(step: FirstStep | undefined): string {
  if (!step || step.kind !== 'upgrade-headscale') return `upgrade Headscale to ${NEWEST_RELEASE}`;
  const rest = step.path.slice(1);
  return `upgrade Headscale to ${step.to} first${rest.length ? `, then one minor at a time (${rest.join(' → ')}; 0.29 refuses to skip minors)` : ''}`;
}

function versionSkew(input: DiagnosisInput): Cause | undefined {
  const b = new Builder();
  let direction: 'ahead' | 'below' | undefined;
  let below: { container?: string; minimum: string; version: string } | undefined;
  for (const a of of(input, 'version-skew')) {
    const d = a.labels.direction === 'below' ? 'below' : 'ahead';
    direction ??= d;
    b.add(d === 'below' ? 9 : 8, ...a.evidence);
    if (d === 'below') below ??= { minimum: minimumOf(a) ?? '?', version: a.labels.clientVersion ?? '?', ...(a.subject.includes(' ') ? {} : { container: a.subject }) };
  }
  for (const a of of(input, 'unsupported-client')) {
    direction ??= 'below';
    b.add(3, ...a.evidence.slice(-2));
  }
  // Without a version-skew alert (the probe has not run yet, or the detector was restarted), the facts.
  const server = input.server.version;
  const caps = server ? releaseCaps(headscaleMinor(server) ?? -1) : undefined;
  if (b.score === 0 && caps) {
    for (const c of input.containers) {
      const v = input.clientVersions[c.name];
      const minor = parseVersion(v)?.minor;
      if (!v || minor === undefined) continue;
      if (caps.minClientMinor !== undefined && minor < caps.minClientMinor) {
        direction = 'below';
        below ??= { container: c.name, minimum: formatMinor(caps.minClientMinor), version: v };
        b.add(6, `client: Tailscale ${v} in ${c.name}`, `server: Headscale ${server} accepts clients from ${formatMinor(caps.minClientMinor)}`);
      } else if (minor > caps.newestKnownMinor + (input.aheadMarginMinors ?? 4)) {
        direction = 'ahead';
        b.add(5, `client: Tailscale ${v} in ${c.name}`, `server: Headscale ${server} knows clients up to ${formatMinor(caps.newestKnownMinor)}`);
      }
    }
  }
  if (b.score === 0) return undefined;
  if (direction === 'ahead') {
    if (symptoms(input)) b.add(2, 'the failure a client far newer than a pinned Headscale is known to cause: map-response storm, CPU, flapping (juanfont/headscale#2486)');
    const step = upgradeHeadscale(input);
    return b.cause(
      'version-skew',
      `The Tailscale client is far newer than this Headscale: ${pathText(step)}. Re-registering alone will not stop the loop; re-register the node after the upgrade if it keeps flapping.`,
      step,
    );
  }
  const who = below?.container ? ` in ${below.container}` : '';
  const image = below?.container ? input.containers.find((c) => c.name === below!.container)?.image : undefined;
  const step: FirstStep = { kind: 'upgrade-client', minimum: below?.minimum ?? '?', ...(below?.container ? { container: below.container } : {}), ...(image ? { imageChange: `image: ${image} → a tailscale/tailscale tag ≥ ${below?.minimum ?? '?'} (e.g. tailscale/tailscale:stable)` } : {}) };
  return b.cause(
    'version-skew',
    `Headscale rejects this Tailscale client as too old: upgrade Tailscale${who} to ${below?.minimum ?? "the server's minimum"} or newer (not Headscale). Re-registering cannot help while the server refuses the client.`,
    step,
  );
}

/** The server's minimum client as the skew alert states it, written `v1.80`. */
function minimumOf(a: Alert): string | undefined {
  const text = /minimum client:?\s*(v?1\.\d+)/.exec(a.evidence.join('\n'))?.[1] ?? /minimum client (v?1\.\d+)/.exec(a.summary)?.[1];
  const minor = parseVersion(text)?.minor;
  return minor === undefined ? undefined : formatMinor(minor);
}

function proxyNoUpgrade(input: DiagnosisInput): Cause | undefined {
  const b = new Builder();
  for (const a of of(input, 'proxy-misconfigured')) b.add(9, ...a.evidence.slice(-3));
  const server = input.notable.filter((l) => l.kind === 'proxy-no-upgrade' || (l.kind === 'noise-upgrade-failed' && /no next protocol|handshake header|unhandled next protocol/.test(l.line)));
  if (b.score === 0) for (const l of server.slice(-3)) b.add(2, l.line);
  const client = input.notable.filter((l) => l.kind === 'control-error' && PROXY_ANSWER.test(l.line));
  if (client.length > 0) b.add(3, ...client.slice(-2).map((l) => `${l.origin}: ${l.line}`));
  return b.cause(
    'proxy-no-upgrade',
    'Make the reverse proxy in front of Headscale pass the upgrade on /ts2021: a POST with `Upgrade: tailscale-control-protocol` and `Connection: upgrade` over HTTP/1.1 (nginx: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;`). Cloudflare tunnels cannot do this.',
  );
}

/** http:// to a private address or localhost is never redialled on 443 by clients ≥ 1.80 (tailscale.md §7.2). */
function privateLiteral(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return /^(?:localhost|127\.|10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|::1$|f[cd][0-9a-f]{2}:)/i.test(host);
  } catch {
    return false;
  }
}

function forced443(input: DiagnosisInput): Cause | undefined {
  const b = new Builder();
  const members = of(input, 'forced-443-loop');
  for (const a of members) b.add(4, ...a.evidence.slice(-2));
  if (members.length === 0) {
    const lines = input.notable.filter((l) => l.kind === 'forced-443');
    if (lines.length > 0) b.add(2, ...lines.slice(-2).map((l) => `${l.origin}: ${l.line}`));
  }
  if (b.score === 0) return undefined;
  for (const c of input.containers) {
    if (!c.loginServer?.startsWith('http://')) continue;
    if (privateLiteral(c.loginServer)) b.add(1, `${c.name}: ${c.loginServerFrom ?? 'TS_EXTRA_ARGS'} --login-server=${c.loginServer} (a private address: clients ≥ 1.80 do not redial it on 443)`);
    else b.add(5, `${c.name}: ${c.loginServerFrom ?? 'TS_EXTRA_ARGS'} --login-server=${c.loginServer} (plain HTTP on a hostname: every quick redial goes to port 443)`);
  }
  return b.cause(
    'plain-http-forced-443',
    'Serve Headscale over HTTPS on 443 (or behind a TLS-terminating proxy) and set `--login-server=https://…` in TS_EXTRA_ARGS; for a plain-HTTP setup use a private-IP literal instead of a hostname, which clients ≥ 1.80 never redial on 443.',
  );
}

function sharedNamespace(input: DiagnosisInput): Cause | undefined {
  const b = new Builder();
  const hs = input.server.container;
  for (const c of input.containers) {
    const mode = c.networkMode ?? '';
    if (mode === 'host') b.add(hs?.networkMode === 'host' ? 7 : 5, `${c.name}: NetworkMode host${hs?.networkMode === 'host' ? `, and Headscale (${hs.name}) runs in the host namespace too` : ''}`);
    else if (mode.startsWith('container:')) {
      const other = mode.slice('container:'.length);
      if (hs && (other === hs.name || (hs.id && (other === hs.id || hs.id.startsWith(other))))) b.add(7, `${c.name}: NetworkMode container:${other} — the network namespace of Headscale (${hs.name})`);
    }
  }
  return b.cause(
    'shared-network-namespace',
    "Give the Tailscale container its own network namespace (remove `network_mode: host` / `network_mode: service:headscale` from its service) and point --login-server at Headscale's address on the Docker network: tailscaled's routes and DNS in a shared namespace cut its own control connection.",
  );
}

/** Kinds other detectors raise for a container that keeps failing to log in (strings: they may not exist yet). */
const LOOP_KINDS: ReadonlySet<string> = new Set(['container-restart-loop', 'auth-rejected']);

function staleAuthKey(input: DiagnosisInput): Cause | undefined {
  const b = new Builder();
  let dynamic = false;
  for (const c of input.containers) {
    if (!c.authKeySet || c.authOnce?.toLowerCase() === 'true') continue;
    const restarts = Math.max(c.restartCount, input.starts[c.name] ?? 0);
    const auth = input.notable.filter((l) => l.origin === c.name && AUTH_FAILURE.test(l.line));
    const loops = input.members.filter((a) => LOOP_KINDS.has(a.kind) && (a.labels.container ?? a.subject) === c.name);
    if (restarts < 2 && auth.length === 0 && loops.length === 0) continue;
    dynamic = true;
    b.add(2, `${c.name}: TS_AUTHKEY is set and TS_AUTH_ONCE is ${c.authOnce === undefined ? 'not set' : `"${c.authOnce}"`}: containerboot runs \`tailscale up --authkey\` on every start`);
    if (restarts >= 2) b.add(3, `${c.name}: restarted ${restarts} times${c.restartPolicy ? ` (restart policy ${c.restartPolicy})` : ''}`);
    for (const a of loops) b.add(4, ...a.evidence.slice(-2));
    if (auth.length > 0) b.add(4, ...auth.slice(-3).map((l) => `${c.name}: ${l.line}`));
  }
  if (!dynamic) return undefined;
  return b.cause(
    'stale-auth-key',
    'Set `TS_AUTH_ONCE=true` on the container (or put a valid key in TS_AUTHKEY) so containerboot stops re-sending a stale key on every start, then re-register the node.',
  );
}

/** `(N dropped)` counts of RATELIMIT evidence lines, in order. */
function droppedCounts(lines: string[]): number[] {
  return lines.flatMap((l) => {
    const m = /\((\d+) dropped\)/.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

function mapResponseStorm(input: DiagnosisInput): Cause | undefined {
  const b = new Builder();
  for (const a of of(input, 'ratelimit-flood')) {
    const storm = a.evidence.filter((l) => l.includes('control: [v\\x00JSON]') || l.includes('control: [v\u0000JSON]'));
    if (storm.length === 0 && !a.summary.includes('map-response storm')) continue;
    b.add(6, ...storm.slice(-3));
    const counts = droppedCounts(storm);
    if (counts.length >= 2 && counts[counts.length - 1]! > counts[0]!) b.add(1, `dropped counts rising: ${counts[0]} → ${counts[counts.length - 1]} over ${counts.length} lines`);
    const container = a.labels.container ?? a.subject;
    const cpu = of(input, 'cpu-sustained').find((c) => (c.labels.container ?? c.subject) === container);
    if (cpu) b.add(1, cpu.summary);
  }
  for (const a of of(input, 'map-response-storm')) b.add(6, ...a.evidence.slice(-2));
  return b.cause(
    'map-response-storm',
    'The control server floods this client with map updates. Usually a client far newer than a pinned Headscale: upgrade Headscale if it is old; otherwise re-register the node (Re-register below) so it starts from a fresh registration.',
  );
}

function headscaleTooOld(input: DiagnosisInput): Cause | undefined {
  const v = input.server.version;
  if (!v || isMaintained(v) !== false) return undefined;
  const b = new Builder();
  b.add(4, `Headscale ${v}${input.server.versionFrom ? ` (from ${input.server.versionFrom})` : ''}: the oldest release line still maintained is 0.${OLDEST_MAINTAINED_MINOR} (newest ${NEWEST_RELEASE})`);
  if (symptoms(input)) b.add(1, 'fixes for flapping and map-session churn shipped only in newer releases (e.g. 0.29.2, juanfont/headscale#3358)');
  const step = upgradeHeadscale(input);
  return b.cause('headscale-too-old', `${pathText(step).replace(/^u/, 'U')}.${step && 'imageChange' in step && step.imageChange ? ` In the compose file: ${step.imageChange}.` : ''}`, step);
}
