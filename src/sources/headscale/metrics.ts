import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import type { Logger } from '../../log/logger.js';
import type { Finding, HeadscaleMetricsFinding } from '../../parsers/finding.js';
import { Repeater } from '../repeat.js';

/**
 * Headscale's own Prometheus endpoint (`metrics_listen_addr`, HEADSCALE_METRICS_URL) as a source, scraped once
 * per poll interval. Names per release (headscale.md §14, juanfont/headscale `hscontrol/metrics.go`,
 * `mapper/batcher.go`, `state/node_store.go` at the tags):
 *
 * - `headscale_mapresponse_sent_total{status,type}`: every map response up to 0.26; keep-alives only from 0.27;
 * - `headscale_mapresponse_generated_total{response_type}` (0.28+): responses the batcher built for nodes;
 * - `headscale_mapresponse_ended_total{reason}`: ended map sessions (`cancelled`, `done`);
 * - nodes: `headscale_nodestore_nodes` (0.29+), `headscale_nodestore_nodes_total` (0.27–0.28); 0.23–0.26 only
 *   have `headscale_notifier_open_channels_total`, which drifts upward (kept as the last resort).
 *
 * The same listener serves `/debug/batcher` as JSON (0.27+): its connected-node list is a second
 * connect/disconnect source (findings `via: 'debug'`). It refuses requests from outside loopback and the
 * tailnet with 403 unless TS_ALLOW_DEBUG_IP / a debug key allows them (§9); then it is left alone.
 */

export const METRICS_ORIGIN = 'headscale-metrics';

export interface MetricsScraperOptions {
  /** HEADSCALE_METRICS_URL, e.g. http://headscale:9090/metrics. */
  url: string;
  intervalMs: number;
  timeoutMs: number;
  logger?: Logger;
  onFinding(f: Finding): void;
  /** Node count from the API poller, used when the release exports no NodeStore gauge. */
  apiNodeCount?: () => number | undefined;
}

export interface MetricsStatus {
  ok: boolean;
  error?: string;
  lastScrapeAt?: number;
  /** Whether /debug/batcher answered JSON (undefined before the first try). */
  batcher?: 'json' | 'denied' | 'absent';
}

function sum(families: Map<string, PromFamily>, name: string): number | undefined {
  const f = families.get(name);
  if (!f) return undefined;
  let total = 0;
  for (const m of f.metrics) {
    const v = Number(m.value);
    if (Number.isFinite(v)) total += v;
  }
  return total;
}

function byLabel(families: Map<string, PromFamily>, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of families.get(name)?.metrics ?? []) {
    const key = m.labels?.[label] ?? '';
    const v = Number(m.value);
    if (Number.isFinite(v)) out[key] = (out[key] ?? 0) + v;
  }
  return out;
}

/** Reads the values headwatch uses from one exposition text. Exported for tests and the bench. */
export function readExposition(text: string, at: number, apiNodes?: number): HeadscaleMetricsFinding {
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f] as const));
  const f: HeadscaleMetricsFinding = { kind: 'headscale-metrics', at, origin: METRICS_ORIGIN, endedByReason: byLabel(families, 'headscale_mapresponse_ended_total', 'reason') };
  const sent = sum(families, 'headscale_mapresponse_sent_total');
  const generated = sum(families, 'headscale_mapresponse_generated_total');
  const ended = sum(families, 'headscale_mapresponse_ended_total');
  if (sent !== undefined) f.mapResponsesSent = sent;
  if (generated !== undefined) f.mapResponsesGenerated = generated;
  if (ended !== undefined) f.sessionsEnded = ended;
  const store = sum(families, 'headscale_nodestore_nodes') ?? sum(families, 'headscale_nodestore_nodes_total');
  const notifier = sum(families, 'headscale_notifier_open_channels_total');
  if (store !== undefined) {
    f.nodes = store;
    f.nodesFrom = 'nodestore';
  } else if (apiNodes !== undefined) {
    f.nodes = apiNodes;
    f.nodesFrom = 'api';
  } else if (notifier !== undefined) {
    f.nodes = notifier;
    f.nodesFrom = 'notifier';
  }
  return f;
}

export class HeadscaleMetricsScraper {
  private state: MetricsStatus = { ok: false };
  private connected: Set<string> | undefined;
  private batcher: 'try' | 'off' = 'try';
  private inFlight: Promise<void> | undefined;
  private readonly repeater = new Repeater(
    () => this.scrapeOnce(Date.now()),
    () => this.opts.intervalMs,
  );

  constructor(private readonly opts: MetricsScraperOptions) {}

  start(): void {
    this.repeater.start();
  }

  async stop(): Promise<void> {
    this.repeater.stop();
    await this.inFlight?.catch(() => undefined);
  }

  status(): MetricsStatus {
    return { ...this.state };
  }

  /** One scrape at `now` (tests inject the clock). */
  scrapeOnce(now: number): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const p = this.scrape(now).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  private emit(f: Finding): void {
    try {
      this.opts.onFinding(f);
    } catch (err) {
      this.opts.logger?.error({ err, kind: f.kind }, 'headscale metrics: finding handler failed');
    }
  }

  private async get(url: string, accept: string): Promise<{ status: number; text: string }> {
    const res = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(this.opts.timeoutMs), redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  }

  private async scrape(now: number): Promise<void> {
    let text: string;
    try {
      const r = await this.get(this.opts.url, 'text/plain;version=0.0.4');
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      text = r.text;
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${Math.round(this.opts.timeoutMs / 1000)} s` : (err as Error).message;
      if (this.state.ok || this.state.error === undefined) {
        this.opts.logger?.warn(`Cannot scrape Headscale metrics at ${this.opts.url} (${why}). Check HEADSCALE_METRICS_URL: it must reach Headscale's metrics_listen_addr (e.g. 0.0.0.0:9090 in config.yaml, http://headscale:9090/metrics here).`);
      }
      this.state = { ...this.state, ok: false, error: why };
      return;
    }
    let finding: HeadscaleMetricsFinding;
    try {
      finding = readExposition(text, now, this.opts.apiNodeCount?.());
    } catch (err) {
      this.state = { ...this.state, ok: false, error: `not Prometheus text: ${(err as Error).message}` };
      this.opts.logger?.warn(`HEADSCALE_METRICS_URL ${this.opts.url} did not answer Prometheus text (${(err as Error).message}); check that it points at /metrics.`);
      return;
    }
    this.state = { ...this.state, ok: true, lastScrapeAt: now, error: undefined };
    if (this.batcher === 'try') await this.batcherNodes(now, finding);
    this.emit(finding);
  }

  /** `/debug/batcher` (Accept: application/json): `{"connected_nodes":{"<id>":{"connected":bool,…}},"total_nodes":n}`. */
  private async batcherNodes(now: number, metrics: HeadscaleMetricsFinding): Promise<void> {
    const url = new URL('/debug/batcher', this.opts.url).toString();
    let r: { status: number; text: string };
    try {
      r = await this.get(url, 'application/json');
    } catch {
      return; // the metrics answered; a hiccup here is tried again next scrape
    }
    if (r.status === 403 || r.status === 404) {
      this.batcher = 'off';
      this.state.batcher = r.status === 403 ? 'denied' : 'absent';
      this.opts.logger?.info(
        r.status === 403
          ? `Headscale refused ${url} (debug access denied): connect/disconnect is taken from the logs and the API only. To use it, allow headwatch's address with TS_ALLOW_DEBUG_IP on the headscale container.`
          : `${url} does not exist on this Headscale release (0.27+ serves it): connect/disconnect is taken from the logs and the API only.`,
      );
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(r.text);
    } catch {
      return; // text/plain from a release that ignores Accept: nothing to read
    }
    const nodes = (body as { connected_nodes?: Record<string, { connected?: boolean }> })?.connected_nodes;
    if (typeof nodes !== 'object' || nodes === null) return;
    this.state.batcher = 'json';
    const total = (body as { total_nodes?: unknown }).total_nodes;
    if (metrics.nodes === undefined && typeof total === 'number') {
      metrics.nodes = total;
      metrics.nodesFrom = 'batcher';
    }
    const now_ = new Set(Object.entries(nodes).filter(([, v]) => v?.connected === true).map(([id]) => id));
    const before = this.connected;
    this.connected = now_;
    // The first list is where every node stands (a baseline for the flapping detector), as the API poller does.
    for (const id of now_) if (!before || !before.has(id)) this.emit({ kind: 'node-connected', at: now, origin: METRICS_ORIGIN, nodeId: id, via: 'debug' });
    if (before) for (const id of before) if (!now_.has(id)) this.emit({ kind: 'node-disconnected', at: now, origin: METRICS_ORIGIN, nodeId: id, via: 'debug' });
    if (!before) for (const id of Object.keys(nodes)) if (!now_.has(id)) this.emit({ kind: 'node-disconnected', at: now, origin: METRICS_ORIGIN, nodeId: id, via: 'debug' });
  }
}
