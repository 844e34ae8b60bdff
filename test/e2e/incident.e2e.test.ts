import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  discordButtons,
  discordIncidents,
  execIn,
  APPROVER,
  LOGIN_SERVER,
  OPERATOR,
  SLACK_CHANNEL,
  slackButtons,
  slackIncidents,
  startFlapping,
  startScenario,
  stopFlapping,
  until,
  type ScenarioParts,
} from '../../bench/incident-scenario.js';
import { describeDocker } from '../support/docker.js';

/**
 * The seed failure as one incident, on the real Docker engine and through the real Bolt and discord.js clients:
 * flapping node, busy tailscale container with a map-response storm, a 1.84 client against a pinned 0.23.
 * The steps build on each other (one scenario), so they run in order in one file.
 */
const MEMBER_KINDS = ['node-flapping', 'cpu-sustained', 'ratelimit-flood', 'version-skew'];
const text = (v: unknown) => JSON.stringify(v);

describeDocker('the seed failure as one incident', () => {
  let p: ScenarioParts;
  let firstFlapAt = 0;

  beforeAll(async () => {
    p = await startScenario();
  }, 90_000);
  afterAll(async () => {
    if (process.env.HEADWATCH_SCENARIO_DUMP) {
      for (const m of p?.slack.channelMessages(SLACK_CHANNEL) ?? []) console.log('SLACK', m.thread_ts ? 'reply' : 'post', m.text, '\n', text(m.blocks).slice(0, 3000));
      console.log('NODES', text(p?.hs.state.nodes));
    }
    await p?.close();
  });

  it('one incident message per channel within 60 s of the first flap, naming version skew first and saying to upgrade Headscale first', async () => {
    firstFlapAt = await startFlapping(p);
    const post = await until('the incident message in Slack', () => slackIncidents(p)[0], 60_000);
    const postedAfter = Date.now() - firstFlapAt;
    expect(postedAfter).toBeLessThan(60_000);
    // Edited in place as the members join: all four in one message.
    const full = await until(
      'all four members in the Slack message',
      () => MEMBER_KINDS.every((k) => text(post.blocks).includes(`${k} ·`)) && post,
      60_000,
    );
    const body = text(full.blocks);
    expect(body).toMatch(/1\. Version skew between Tailscale and Headscale \(`version-skew`\)/);
    expect(body).toContain('Upgrade Headscale to 0.24.3 first: re-registering alone will not stop the loop');
    expect(body).toContain('0.29 refuses to skip minor releases');
    expect(body).toContain('matched by TS_HOSTNAME=nas-01');
    expect(body).toContain('1.84.0');
    expect(slackButtons(full.blocks).map((b) => b.label)).toEqual(['Re-register', 'Restart container', 'Silence 1h']);

    const d = await until('the incident message in Discord', () => discordIncidents(p).find((m) => MEMBER_KINDS.every((k) => text(m.embeds).includes(`${k} ·`))), 30_000);
    expect(text(d.embeds)).toContain('version-skew');
    expect(discordButtons(d.components).map((b) => b.label)).toEqual(['Re-register', 'Restart container', 'Silence 1h']);
    expect(discordButtons(d.components)[0]!.customId).toBe(slackButtons(full.blocks)[0]!.actionId);
    // Exactly one incident message per channel, and no member alert posted on its own.
    expect(slackIncidents(p)).toHaveLength(1);
    expect(discordIncidents(p)).toHaveLength(1);
    const topLevel = p.slack.channelMessages(SLACK_CHANNEL).filter((m) => !m.thread_ts && !/Incident #/.test(m.text));
    for (const k of MEMBER_KINDS) expect(topLevel.map((m) => m.text).join('\n')).not.toContain(k);
    const dOther = p.discord.channelMessages().filter((m) => !/Incident #/.test(text(m.embeds)));
    for (const k of MEMBER_KINDS) expect(text(dOther.map((m) => m.embeds))).not.toContain(k);

    // The webhook carries the alerts with their incident: causes with evidence and member fingerprints.
    const hooked = await until('a webhook alert with its incident', () => p.webhook.alerts().find((a) => a.kind === 'version-skew' && a.incident), 30_000);
    const incident = hooked.incident as { id: number; causes: { name: string; evidence: string[] }[]; members: { fingerprint: string }[]; status: string };
    expect(hooked.signatureValid).toBe(true);
    expect(incident.status).toBe('open');
    expect(incident.causes[0]!.name).toBe('version-skew');
    expect(incident.causes[0]!.evidence.join('\n')).toContain('1.84.0');
    expect(incident.members.map((m) => m.fingerprint)).toContain(hooked.fingerprint);
  }, 150_000);

  it('the fake is upgraded in place to the current release: headwatch re-detects it and the skew member clears', async () => {
    p.hs.upgrade('0.29');
    const post = slackIncidents(p)[0]!;
    await until('version-skew cleared in the Slack message', () => /✅ version-skew/.test(text(post.blocks)), 60_000);
    const body = text(post.blocks);
    expect(body).not.toMatch(/1\. Version skew/);
    expect(body).not.toContain('Upgrade Headscale to 0.24.3 first');
    expect(body).toMatch(/1\. Map-response storm \(`map-response-storm`\)/);
    expect(slackIncidents(p)).toHaveLength(1);
    // A thread line says what cleared.
    await until('the thread line for the cleared skew', () => p.slack.threadReplies(post.ts).some((m) => m.text.includes('version-skew') && m.text.includes('cleared')), 20_000);
  }, 90_000);

  it('Re-register + Approve by two people: node deleted once, one key, tailscale up with it in the container, incident resolves', async () => {
    const post = slackIncidents(p)[0]!;
    const rr = slackButtons(post.blocks).find((b) => b.label === 'Re-register')!;
    // The button is now the suggested step: the upgrade is done.
    expect(text(post.blocks)).toMatch(/"action_id":"reregister:[^"]*","text":\{[^}]*"Re-register"[^}]*\},"style":"primary"/);
    await p.slack.clickButton({ actionId: rr.actionId, messageTs: post.ts, userId: OPERATOR.slack, userName: OPERATOR.name });
    const card = await until('the approval card', () => p.slack.channelMessages(SLACK_CHANNEL).find((m) => slackButtons(m.blocks).map((b) => b.label).join() === 'Approve,Deny'), 20_000);
    expect(card.text).toContain('re-register node nas-01 (id 1)');
    expect(card.text).toContain('matched by TS_HOSTNAME=nas-01');
    const approve = slackButtons(card.blocks)[0]!.actionId;
    // The requester cannot approve their own request.
    await p.slack.clickButton({ actionId: approve, messageTs: card.ts, userId: OPERATOR.slack, userName: OPERATOR.name });
    await until('the refusal', () => p.slack.responses.some((r) => text(r.body).includes('cannot approve your own request')), 10_000);
    expect(p.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);

    const approvedAt = Date.now();
    await p.slack.clickButton({ actionId: approve, messageTs: card.ts, userId: APPROVER.slack, userName: APPROVER.name });
    // Headscale's side of the join: once `tailscale up` ran with the key, the node registers anew and is online.
    // (read until complete: the script writes it line by line)
    const argv = await until('tailscale up in the container', async () => {
      const out = (await execIn(p.docker, p.tailscaleContainer, ['cat', '/tmp/argv']).catch(() => '')).trim();
      return out.includes('--timeout=') ? out : undefined;
    }, 30_000);
    p.hs.addNode({ name: 'nas-01', user: 'alice', online: true });
    // The old node is gone, so its flapping lines stop.
    await stopFlapping(p);
    await until('the card DONE', () => card.text.includes('DONE:'), 60_000);
    const approveToOnline = Date.now() - approvedAt;
    // Each step was shown on the card as it happened.
    const history = card.history.map((h) => h.text);
    expect(history.some((h) => h.includes('RUNNING:'))).toBe(true);
    expect(text(card.blocks)).toMatch(/✅ 1\. .*✅ 2\. .*✅ 3\. .*✅ 4\. .*✅ 5\./s);
    expect(text(card.blocks)).toContain('online again as id 2');

    expect(p.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    const keys = p.hs.requestsTo('POST', '/api/v1/preauthkey');
    expect(keys).toHaveLength(1);
    expect((keys[0]!.body as { reusable?: boolean }).reusable ?? false).toBe(false);
    const key = p.hs.state.preAuthKeys[0]!.key;
    expect(argv.split('\n')).toEqual(['up', '--force-reauth', `--auth-key=${key}`, `--login-server=${LOGIN_SERVER}`, '--accept-dns=false', '--hostname=nas-01', '--timeout=60s']);

    // The incident resolves when the members clear, saying how long after Re-register and by whom.
    await until('the incident RESOLVED', () => post.text.includes('RESOLVED'), 90_000);
    expect(text(post.blocks)).toMatch(/Resolved after \d+ (s|min)[^.]*: every member alert cleared; resolved \d+ min after Re-register by oper/);
    expect(slackButtons(post.blocks)).toHaveLength(0);
    const d = discordIncidents(p)[0]!;
    await until('the Discord incident RESOLVED', () => text(d.embeds).includes('RESOLVED'), 20_000);
    expect(slackIncidents(p)).toHaveLength(1);
    expect(discordIncidents(p)).toHaveLength(1);

    // The key was nowhere but in the container's argv: not in a channel, thread, webhook body or the audit log.
    const secret = key.split('-').at(-1)!;
    expect(text(p.slack.messages)).not.toContain(secret);
    expect(text(p.slack.responses)).not.toContain(secret);
    expect(text(p.discord.channelMessages())).not.toContain(secret);
    expect(p.webhook.posts.map((x) => x.body).join('')).not.toContain(secret);
    expect(text(p.app.store.db.prepare('SELECT * FROM audit_log').all())).not.toContain(secret);
    console.log(`incident scenario: approve → online ${approveToOnline} ms`);
  }, 240_000);
});
