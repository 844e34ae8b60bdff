import { adviceFor } from '../alerts/kinds.js';
import type { Alert, Severity } from '../alerts/model.js';
import { AlertBatchDestination, type AlertChange, type IncidentLookup, type NotifiedAlert } from './destination.js';

interface Printed {
  severity: Severity;
  summary: string;
  evidence: string[];
}

/** Firing alerts remembered for "what changed"; beyond this (a storm) the oldest are forgotten, never the process. */
const MAX_REMEMBERED = 10_000;
const MAX_EVIDENCE_SHOWN = 160;

/**
 * The default destination: one readable line per alert event on stdout — firing, updated (saying what changed
 * since the line it printed before), repeated and resolved.
 */
export class ConsoleDestination extends AlertBatchDestination {
  readonly name = 'console';
  override readonly wantsUpdates = true;
  private readonly printed = new Map<string, Printed>();
  /** Last INCIDENT line printed per incident: a line is printed again only when it says something new. */
  private readonly incidentLines = new Map<number, string>();

  constructor(
    private readonly out: { write(s: string): unknown } = process.stdout,
    private readonly opts: { commandName?: string; incidentOf?: IncidentLookup } = {},
  ) {
    super();
  }

  async send(alerts: NotifiedAlert[]): Promise<void> {
    for (const a of alerts) {
      const notification = a.notification ?? guessAlertChange(a);
      const before = this.printed.get(a.fingerprint);
      const note = notification === 'updated' ? describeChange(before, a) : notification === 'firing' ? nextStep(a, this.opts.commandName) : undefined;
      this.out.write(`${formatAlertLine(a, notification, note)}\n`);
      this.remember(a);
      this.incidentLine(a);
    }
  }

  /** After a member's line: its incident's line, when that says something new. */
  private incidentLine(a: Alert): void {
    const incident = this.opts.incidentOf?.(a.fingerprint);
    if (!incident) return;
    const seen = this.incidentLines.get(incident.payload.id);
    const now = incident.line('updated');
    if (now === seen) return;
    this.incidentLines.set(incident.payload.id, now);
    if (this.incidentLines.size > MAX_REMEMBERED) this.incidentLines.delete(this.incidentLines.keys().next().value as number);
    this.out.write(`${a.updatedAt} ${incident.line(seen === undefined ? 'opened' : 'updated')}\n`);
  }

  private remember(a: Alert): void {
    this.printed.delete(a.fingerprint);
    if (a.status === 'resolved') return;
    this.printed.set(a.fingerprint, { severity: a.severity, summary: a.summary, evidence: a.evidence });
    if (this.printed.size > MAX_REMEMBERED) this.printed.delete(this.printed.keys().next().value as string);
  }
}

const LABEL: Record<AlertChange, string> = { firing: 'FIRING  ', updated: 'UPDATED ', repeat: 'REPEAT  ', resolved: 'RESOLVED' };

export function formatAlertLine(a: Alert, notification: AlertChange = guessAlertChange(a), change?: string): string {
  const when = a.status === 'resolved' ? (a.endsAt ?? a.updatedAt) : a.updatedAt;
  const oneLine = a.summary.replace(/\s+/g, ' ');
  const tail = change ? ` [${change}]` : '';
  // A CPU alert's last 15 minutes as a sparkline (the chat destinations get the PNG chart instead).
  const spark = a.status === 'firing' && a.labels['sparkline'] ? ` · ${a.labels['sparkline']}` : '';
  return `${when} ${LABEL[notification]} ${a.severity.padEnd(8)} ${a.kind.padEnd(20)} ${a.subject} — ${oneLine}${spark}${tail}`;
}

/** A new alert's line ends in what to do, so the terminal alone is enough to act on it. */
function nextStep(a: Alert, commandName?: string): string {
  const advice = adviceFor(a, commandName);
  return `next: ${advice.text}${advice.command ? ` (${advice.command})` : ''}`;
}

/** What differs from the line printed before for this alert: severity, summary, new evidence. */
export function describeChange(before: Printed | undefined, a: Alert): string | undefined {
  if (!before) return undefined;
  const parts: string[] = [];
  if (before.severity !== a.severity) parts.push(`severity ${before.severity} → ${a.severity}`);
  if (before.summary !== a.summary) parts.push('summary changed');
  const fresh = newEvidence(before.evidence, a.evidence);
  if (fresh.length > 0) {
    const last = fresh[fresh.length - 1]!.replace(/\s+/g, ' ');
    parts.push(`+${fresh.length} evidence: ${last.length > MAX_EVIDENCE_SHOWN ? `${last.slice(0, MAX_EVIDENCE_SHOWN - 1)}…` : last}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** Evidence is a sliding list (newest last): the new items are those after the last one seen before. */
function newEvidence(before: string[], now: string[]): string[] {
  if (before.length === 0) return now;
  const last = before[before.length - 1];
  const at = now.lastIndexOf(last!);
  return at < 0 ? now : now.slice(at + 1);
}

/** Rows queued before notifications were recorded: read the change off the alert itself. */
function guessAlertChange(a: Alert): AlertChange {
  if (a.status === 'resolved') return 'resolved';
  return a.updatedAt !== a.startsAt ? 'updated' : 'firing';
}
