import type { Alert } from '../alerts/model.js';
import type { AlertSender } from './sender.js';

/** The default notifier: one readable line per alert event on stdout. */
export class ConsoleSender implements AlertSender {
  readonly name = 'console';

  constructor(private readonly out: { write(s: string): unknown } = process.stdout) {}

  async send(alerts: Alert[]): Promise<void> {
    for (const a of alerts) this.out.write(`${formatAlertLine(a)}\n`);
  }
}

export function formatAlertLine(a: Alert): string {
  const when = a.status === 'resolved' ? (a.endsAt ?? a.updatedAt) : a.updatedAt;
  const status = a.status === 'resolved' ? 'RESOLVED' : a.occurrences > 0 && a.updatedAt !== a.startsAt ? 'UPDATED ' : 'FIRING  ';
  const oneLine = a.summary.replace(/\s+/g, ' ');
  return `${when} ${status} ${a.severity.padEnd(8)} ${a.kind.padEnd(20)} ${a.subject} — ${oneLine}`;
}
