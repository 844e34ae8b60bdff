import type { Alert, AlertTransition } from '../alerts/model.js';
import type { ImageAttachment } from '../messages/model.js';
import type { CpuPoint } from './series.js';
import { lastCrossing } from './series.js';
import { chartAttachment, renderCpuChart } from './render.js';

export interface AlertChartsOptions {
  /** Samples of a container in [from, to] (CpuHistory.window). */
  samples(container: string, from: number, to: number): CpuPoint[];
  thresholdPercent: number;
  timeZone?: string;
  /** Told when a render fails (the alert goes out without a picture). */
  onError?(fingerprint: string, err: unknown): void;
  clock?: () => number;
}

const SPAN_MS = 15 * 60_000;
const MAX_KEPT = 64;

/**
 * The PNG chart that goes with a CPU alert: rendered off the hot path as soon as the alert fires (the chat
 * group wait leaves ample time) and picked up when its message is posted. A chart that is not ready, or
 * failed to render, simply leaves the message without one: a picture never holds an alert back.
 */
export class AlertCharts {
  private readonly ready = new Map<string, { occurrence: number; image: ImageAttachment }>();
  private readonly clock: () => number;

  constructor(private readonly o: AlertChartsOptions) {
    this.clock = o.clock ?? Date.now;
  }

  /** Starts a render for a CPU alert that fired; forgets the chart of one that resolved. Returns the render. */
  prepare(t: AlertTransition): Promise<void> | undefined {
    const a = t.alert;
    if (a.kind !== 'cpu-sustained') return undefined;
    if (t.change === 'resolved') {
      this.ready.delete(a.fingerprint);
      return undefined;
    }
    if (t.change !== 'firing') return undefined;
    return this.render(a).catch((err: unknown) => this.o.onError?.(a.fingerprint, err));
  }

  /** The chart for this occurrence of the alert, if it is ready. */
  imageFor(alert: Alert): ImageAttachment | undefined {
    const r = this.ready.get(alert.fingerprint);
    return r && r.occurrence === alert.occurrences ? r.image : undefined;
  }

  private async render(a: Alert): Promise<void> {
    const container = a.labels['container'] ?? a.subject;
    const to = this.clock();
    const from = to - SPAN_MS;
    const points = this.o.samples(container, from, to);
    const chart = await renderCpuChart({
      title: `CPU · ${container}`,
      subtitle: 'last 15 min · % of the container’s CPU allowance',
      series: [{ name: container, points }],
      threshold: this.o.thresholdPercent,
      crossedAt: lastCrossing(points, this.o.thresholdPercent),
      from,
      to,
      ...(this.o.timeZone ? { timeZone: this.o.timeZone } : {}),
    });
    if (this.ready.size >= MAX_KEPT) this.ready.delete(this.ready.keys().next().value!);
    this.ready.set(a.fingerprint, { occurrence: a.occurrences, image: chartAttachment(chart, `CPU of ${container}, last 15 min`) });
  }
}
