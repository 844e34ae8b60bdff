import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/model.js';
import { renderDiscord } from '../../src/adapters/discord/render.js';
import { renderSlack } from '../../src/adapters/slack/render.js';
import { readButton } from '../../src/interaction/buttons.js';
import type { CommandDeps } from '../../src/interaction/types.js';
import { reregisterCommand } from '../../commands/reregister.js';
import { restartCommand } from '../../commands/restart.js';
import { silenceCommand } from '../../commands/silence.js';
import { Correlator } from '../../src/incidents/correlate.js';
import { incidentMessage } from '../../src/incidents/message.js';
import { IncidentViews, type IncidentFacts } from '../../src/incidents/view.js';
import type { Message } from '../../src/messages/model.js';
import { IncidentRepository } from '../../src/store/incidents.js';
import { PlaybookRepository } from '../../src/store/playbooks.js';
import { facts, fired, resolved, tempStore, World } from './helpers.js';
import { flapping, MiniPipeline, stormLines } from './pipeline.js';

const TS = 'ts-nas';

function text(m: Message): string {
  return [m.fallback, ...m.blocks.map((b) => ('text' in b ? b.text : JSON.stringify(b)))].join('\n');
}

/** Real detectors feed the correlator; the view reads what they stored. */
function rig(server = '0.23.0', image = 'headscale/headscale:0.23.0', restartable?: (name: string) => boolean) {
  const store = tempStore();
  const repo = new IncidentRepository(store);
  const playbooks = new PlaybookRepository(store);
  const world = new World();
  world.list = [facts(TS, { tsHostname: 'nas-01', image: 'tailscale/tailscale:v1.84.0' })];
  world.versions = { [TS]: '1.84.0' };
  const correlator = new Correlator({ repo, topology: world.topology(), windowMs: 600_000, serverNodes: 3 });
  const p = new MiniPipeline();
  const stored = new Map<string, Alert>();
  const sync = () => {
    for (const a of p.alerts.values()) {
      const before = stored.get(a.fingerprint);
      if (before && before.status === a.status && before.updatedAt === a.updatedAt) continue;
      stored.set(a.fingerprint, a);
      correlator.handle(a.status === 'resolved' ? resolved(a, p.at) : fired(a, p.at));
    }
  };
  const hsFacts: IncidentFacts = {
    container: (n) => (n === 'headscale' ? facts('headscale', { image }) : world.list.find((c) => c.name === n)),
    headscaleContainer: 'headscale',
    serverVersion: () => ({ version: server, from: 'headscale-api' }),
    clientVersion: (c) => world.versions[c],
    ...(restartable ? { restartable } : {}),
  };
  const views = new IncidentViews({ incidents: repo, alerts: { get: (fp) => stored.get(fp) }, playbooks, facts: hsFacts, evidence: p.evidence });
  return { p, sync, repo, views, playbooks, world };
}

describe('incident message', () => {
  it('offers no Restart button for a container `restart` would refuse (not on HEADWATCH_RESTARTABLE)', () => {
    const { p, sync, repo, views } = rig('0.23.0', 'headscale/headscale:0.23.0', (name) => name !== TS);
    p.lines('headscale', 'headscale', flapping(7, 'nas-01', 4));
    p.cpu(TS, 97, 5);
    sync();
    const m = incidentMessage(views.view(repo.open()[0]!.id, p.at)!);
    const labels = m.blocks.flatMap((b) => (b.type === 'buttons' ? b.buttons : [])).map((b) => b.label);
    expect(labels).toContain('Re-register');
    expect(labels).not.toContain('Restart container');
  });

  it('the seed: one message naming node, container and match, upgrade-first advice, skew first, its members and buttons', () => {
    const { p, sync, repo, views } = rig();
    p.finding({ kind: 'server-version', origin: 'headscale-api', version: '0.23.0' });
    p.finding({ kind: 'client-version', origin: TS, version: '1.84.0' });
    p.lines('headscale', 'headscale', flapping(7, 'nas-01', 4));
    p.lines(TS, 'tailscale', stormLines(6), 5000);
    p.cpu(TS, 97, 5);
    sync();
    expect(repo.open()).toHaveLength(1);
    const m = incidentMessage(views.view(repo.open()[0]!.id, p.at)!);
    const t = text(m);
    expect(m.blocks[0]).toEqual({ type: 'header', text: 'CRITICAL · Incident #1 · nas-01 (id 7) · ts-nas' });
    expect(t).toContain('Node nas-01 (id 7) and its container ts-nas — matched by TS_HOSTNAME=nas-01.');
    expect(t).toContain('4 of 4 alerts firing');
    expect(t).toContain('⚠️ Upgrade Headscale to 0.24.3 first: re-registering alone will not stop the loop.');
    expect(t).toContain('`image: headscale/headscale:0.23.0` → `image: headscale/headscale:0.24.3`');
    // Causes are numbered in rank order, skew first.
    expect(t.indexOf('1. Version skew between Tailscale and Headscale (`version-skew`)')).toBeGreaterThan(0);
    expect(t.indexOf('2. Map-response storm (`map-response-storm`)')).toBeGreaterThan(t.indexOf('1. Version skew'));
    for (const kind of ['node-flapping', 'cpu-sustained', 'ratelimit-flood', 'version-skew']) expect(t).toContain(`${kind} ·`);
    const buttons = m.blocks.flatMap((b) => (b.type === 'buttons' ? b.buttons : []));
    expect(buttons.map((b) => b.label)).toEqual(['Re-register', 'Restart container', 'Silence 1h']);
    // Command buttons: a click is the slash command typed by the clicker (router → policy → approval → action → audit).
    const commands = [reregisterCommand, restartCommand, silenceCommand];
    expect(buttons.map((b) => readButton(b.actionId, commands, {} as CommandDeps))).toEqual([
      { kind: 'invocation', module: reregisterCommand, values: { target: '7', incident: '1' } },
      { kind: 'invocation', module: restartCommand, values: { container: 'ts-nas' } },
      { kind: 'invocation', module: silenceCommand, values: { action: 'add', target: 'incident:1', for: '1h', comment: 'incident #1 button' } },
    ]);
    // With an upgrade to do first, Re-register is not the suggested (primary) button.
    expect(buttons[0]!.style).toBe('default');
    expect(m.fallback).toBe('CRITICAL · Incident #1 · nas-01 (id 7) · ts-nas: likely version-skew; 4 of 4 alerts firing (version-skew, node-flapping, ratelimit-flood, cpu-sustained)');
    // Both platforms render it within their limits.
    const slack = renderSlack(m);
    expect(slack.blocks.length).toBeLessThanOrEqual(50);
    const discord = renderDiscord(m);
    expect(discord.embeds[0]!.description!.length).toBeLessThanOrEqual(4096);
    expect(discord.components[0]!.components).toHaveLength(3);
  });

  it('says so when no cause has evidence, instead of guessing', () => {
    const { p, sync, repo, views } = rig('0.29.8', 'headscale/headscale:0.29.8');
    p.lines('headscale', 'headscale', flapping(7, 'nas-01', 4));
    sync();
    const m = incidentMessage(views.view(repo.open()[0]!.id, p.at)!);
    const t = text(m);
    expect(t).toContain('No cause has evidence: none of the known causes');
    expect(t).toContain('so it does not guess');
    expect(t).not.toContain('⚠️');
    expect(m.fallback).toMatch(/: no cause has evidence; 1 of 1 alerts firing \(node-flapping\)$/);
  });

  it('resolved: RESOLVED with its duration and how long after Re-register by whom, no buttons', () => {
    const { p, sync, repo, views } = rig('0.29.8', 'headscale/headscale:0.29.8');
    p.lines('headscale', 'headscale', flapping(7, 'nas-01', 4));
    sync();
    const id = repo.open()[0]!.id;
    const opened = repo.get(id)!;
    repo.save({ ...opened, reregister: { runId: 1, by: 'alice', at: opened.openedAt + 60_000, ok: true } });
    p.at += 400_000;
    for (const d of p.detectors) for (const e of d.tick(p.at)) if (e.action === 'resolve') p.alerts.set(e.fingerprint, { ...p.alerts.get(e.fingerprint)!, status: 'resolved' });
    sync();
    const m = incidentMessage(views.view(id, p.at)!);
    expect(m.tone).toBe('ok');
    expect(m.blocks[0]).toEqual({ type: 'header', text: 'RESOLVED · Incident #1 · nas-01 (id 7) · ts-nas' });
    expect(text(m)).toMatch(/Resolved after \d+ min: every member alert cleared; resolved \d+ min after Re-register by alice\./);
    expect(m.blocks.some((b) => b.type === 'buttons')).toBe(false);
  });

  it('a server incident lists its nodes, offers to restart Headscale and nothing to re-register', () => {
    const { p, sync, repo, views } = rig('0.29.8', 'headscale/headscale:0.29.8');
    for (const [id, name] of [[1, 'a'], [2, 'b'], [3, 'c']] as const) p.lines('headscale', 'headscale', flapping(id, name, 4));
    sync();
    const server = repo.open().find((i) => i.scope === 'server')!;
    const m = incidentMessage(views.view(server.id, p.at)!);
    expect(text(m)).toContain('3 nodes affected: a (id 1), b (id 2), c (id 3)');
    expect(m.blocks.flatMap((b) => (b.type === 'buttons' ? b.buttons : [])).map((b) => b.label)).toEqual(['Restart Headscale', 'Silence 1h']);
    const merged = repo.get(1)!;
    expect(merged.status).toBe('merged');
    expect(text(incidentMessage(views.view(1, p.at)!))).toContain(`MERGED · Incident #1 → #${server.id}`);
  });
});
