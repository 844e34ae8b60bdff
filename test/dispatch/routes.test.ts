import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { parseRoutes, routeAlert } from '../../src/dispatch/routes.js';

const known = ['slack', 'discord', 'console', 'webhook'];
const channelled = ['slack', 'discord'];

describe('HEADWATCH_ROUTES', () => {
  it('routes by kind and severity, first match wins, with channel overrides', () => {
    const routes = parseRoutes('kind=node-flapping|node-offline,severity>=warning -> slack,discord; severity=critical->slack:C0PAGE ; * -> console,webhook', known, channelled);
    expect(routeAlert(routes, { kind: 'node-flapping', severity: 'critical', subject: 'n1' })).toEqual(['slack', 'discord']);
    expect(routeAlert(routes, { kind: 'node-flapping', severity: 'info', subject: 'n1' })).toEqual(['console', 'webhook']);
    expect(routeAlert(routes, { kind: 'cpu-sustained', severity: 'critical', subject: 'hs' })).toEqual(['slack:C0PAGE']);
    expect(routeAlert(routes, { kind: 'cpu-sustained', severity: 'warning', subject: 'hs' })).toEqual(['console', 'webhook']);
    expect(routeAlert(parseRoutes('subject=db->none;*->console', known, channelled), { kind: 'cpu-sustained', severity: 'warning', subject: 'db' })).toEqual(['none']);
  });

  it('rejects mistakes with an error that names HEADWATCH_ROUTES and says what to write', () => {
    const problems = (spec: string) => {
      try {
        parseRoutes(spec, known, channelled);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems[0]!;
      }
      throw new Error('accepted');
    };
    expect(problems('kind=node-flapping slack')).toMatch(/^HEADWATCH_ROUTES: rule 1 .* has no "->"/);
    expect(problems('*->slak')).toMatch(/HEADWATCH_ROUTES: .*"slak", which is not configured \(configured: slack, discord, console, webhook\)/);
    expect(problems('severity=urgent->slack')).toMatch(/unknown severity "urgent"/);
    expect(problems('colour=red->slack')).toMatch(/cannot read matcher "colour=red"/);
    expect(problems('kind>=node-offline->slack')).toMatch(/">=" only works with severity/);
    expect(problems(' ; ')).toMatch(/has no rules/);
    expect(problems('*->console:C1')).toMatch(/only slack and discord take a channel/);
  });
});
