/**
 * Failure controls shared by the Slack and Discord fakes: each rule matches calls by method/route and,
 * `times` times, answers 500, 429 with Retry-After, a platform error, or drops the connection (before the
 * call is processed, or after — so the client never learns that it succeeded).
 */
export type FaultKind =
  | { kind: 'status'; status: number }
  | { kind: 'ratelimit'; retryAfterSec: number }
  | { kind: 'error'; error: string; status?: number }
  | { kind: 'drop'; when: 'before' | 'after' };

export type FaultRule = FaultKind & {
  /** Matches the Slack method (`chat.postMessage`) or Discord `METHOD /route` (`POST /channels/1/messages`). */
  match?: string | RegExp;
  times?: number;
};

export class Faults {
  private rules: (FaultRule & { left: number })[] = [];
  hits = 0;

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault to apply to this call, consuming one use. */
  take(key: string): FaultKind | undefined {
    const rule = this.rules.find(
      (r) => r.left > 0 && (r.match === undefined || (typeof r.match === 'string' ? key.includes(r.match) : r.match.test(key))),
    );
    if (!rule) return undefined;
    rule.left--;
    this.hits++;
    return rule;
  }
}
