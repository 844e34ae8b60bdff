import { DESTINATION_SETTINGS } from '../config/destinations.js';
import { ConfigError } from '../config/errors.js';
import type { Alert, Severity } from '../alerts/model.js';

/**
 * HEADWATCH_ROUTES: which alerts go where. Rules are separated by `;`, tried in order, first match wins:
 *
 *   kind=node-flapping|node-offline,severity>=warning -> slack,discord ; severity=critical -> slack:C0456 ; * -> console,webhook
 *
 * A matcher is `*` or a comma list of `kind=`, `subject=` or `severity=` (alternatives with `|`), or
 * `severity>=info|warning|critical`. A destination is a configured destination's name (`console`, `webhook`,
 * `slack`, `discord`: a chat platform's default channel), a chat platform with a channel (`slack:<channel id>`),
 * or `none` to drop. Alerts no rule matches are not sent.
 */
export interface Route {
  kinds?: Set<string>;
  subjects?: Set<string>;
  severities?: Set<Severity>;
  /** Destination keys: `slack`, `slack:C123`, `console`, … */
  to: string[];
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const SEVERITIES = Object.keys(SEVERITY_RANK) as Severity[];


function fail(problem: string): never {
  throw new ConfigError([`HEADWATCH_ROUTES: ${problem}`]);
}

/**
 * Parses and validates a route spec. `known` lists the destination names that are configured, `channelled` those
 * of them that take a channel (chat platforms); routing to anything else is a configuration error naming the variable.
 */
export function parseRoutes(spec: string, known: readonly string[], channelled: readonly string[] = []): Route[] {
  const rules = spec
    .split(';')
    .map((r) => r.trim())
    .filter((r) => r.length > 0);
  if (rules.length === 0) fail('is set but has no rules; write e.g. "*->console" or unset it');
  return rules.map((rule, i) => {
    const where = `rule ${i + 1} ("${rule}")`;
    const arrow = rule.indexOf('->');
    if (arrow < 0) fail(`${where} has no "->"; write "<matchers> -> <destinations>", e.g. "severity=critical->slack"`);
    const lhs = rule.slice(0, arrow).trim();
    const rhs = rule.slice(arrow + 2).trim();
    const route: Route = { to: [] };
    if (lhs !== '*' && lhs !== '') {
      for (const part of lhs.split(',').map((p) => p.trim())) {
        const m = /^(kind|subject|severity)\s*(>=|=)\s*(.+)$/.exec(part);
        if (!m) fail(`${where}: cannot read matcher "${part}"; use kind=…, subject=…, severity=… or severity>=…`);
        const [, key, op, raw] = m as unknown as [string, 'kind' | 'subject' | 'severity', string, string];
        const values = raw.split('|').map((v) => v.trim()).filter(Boolean);
        if (values.length === 0) fail(`${where}: matcher "${part}" has no value`);
        if (op === '>=' && key !== 'severity') fail(`${where}: ">=" only works with severity`);
        if (key === 'severity') {
          for (const v of values) {
            if (!SEVERITIES.includes(v as Severity)) fail(`${where}: unknown severity "${v}" (use ${SEVERITIES.join(', ')})`);
          }
          if (op === '>=' && values.length !== 1) fail(`${where}: "severity>=" takes one severity`);
          route.severities =
            op === '>='
              ? new Set(SEVERITIES.filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[values[0] as Severity]))
              : new Set(values as Severity[]);
        } else if (key === 'kind') route.kinds = new Set(values);
        else route.subjects = new Set(values);
      }
    }
    const dests = rhs.split(',').map((d) => d.trim()).filter(Boolean);
    if (dests.length === 0) fail(`${where} has no destination after "->"`);
    for (const d of dests) {
      if (d === 'none') {
        route.to.push(d);
        continue;
      }
      const name = d.split(':')[0]!;
      if (!known.includes(name)) {
        const enabledBy = DESTINATION_SETTINGS[name]?.enabledBy;
        const how = enabledBy ? `; it is turned on by ${enabledBy}` : ` (destinations: ${[...Object.keys(DESTINATION_SETTINGS), 'none'].join(', ')})`;
        fail(`${where} sends to "${name}", which is not configured (configured: ${known.join(', ') || 'nothing'})${how}`);
      }
      if (d.includes(':') && !channelled.includes(name)) {
        fail(`${where}: ${channelled.length > 0 ? `only ${channelled.join(' and ')} take a channel` : 'no configured destination takes a channel'} ("${d}")`);
      }
      if (d.includes(':') && !/^[A-Za-z0-9_-]+$/.test(d.slice(name.length + 1))) fail(`${where}: bad channel id in "${d}"`);
      route.to.push(d);
    }
    return route;
  });
}

/** Destination keys for an alert: the first matching rule's, deduplicated. */
export function routeAlert(routes: readonly Route[], alert: Pick<Alert, 'kind' | 'subject' | 'severity'>): string[] {
  for (const r of routes) {
    if (r.kinds && !r.kinds.has(alert.kind)) continue;
    if (r.subjects && !r.subjects.has(alert.subject)) continue;
    if (r.severities && !r.severities.has(alert.severity)) continue;
    return [...new Set(r.to)];
  }
  return [];
}
