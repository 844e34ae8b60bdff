import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainer, TEST_ENGINE, testDocker, uniqueName } from '../support/docker.js';
import { TlsDockerd } from '../support/tls-dockerd.js';
import { FakeSlack } from '../fakes/slack/server.js';
import { flapLines, printScript, startHeadwatch, stopAllHeadwatch, type Running } from './app-harness.js';
import { dockerdAvailable, runContainer, waitFor } from './helpers.js';

/**
 * Issue 15 §1 on real engines: the private engine of the suite (DOCKER_HOST; in CI the socket proxy) as host
 * `alpha`, and a second private dockerd this file starts on a loopback TCP port with TLS client verification as
 * host `beta`. The whole app watches both; commands come through the real Bolt client and the local Slack server.
 */
const canRunDockerd = await dockerdAvailable();
if (!canRunDockerd && process.env.HEADWATCH_REQUIRE_DOCKER === '1') {
  throw new Error('HEADWATCH_REQUIRE_DOCKER=1 but this machine cannot start a second private dockerd (needs root, dockerd and busybox)');
}
const describeTwoHosts = canRunDockerd ? describeDocker : describeDocker.skip;

const BOT = 'xoxb-two-hosts';
const APP = 'xapp-two-hosts';
const CHANNEL = 'C0TWOHOSTS';
const text = (v: unknown) => JSON.stringify(v);

describeTwoHosts('two Docker hosts: a local engine and a TLS tcp:// engine', () => {
  const alpha = testDocker();
  const beta = new TlsDockerd();
  let betaDocker: Docker;
  let slack: FakeSlack;
  let hw: Running;
  const ts = uniqueName('ts');
  const hs = uniqueName('hs');
  // Looked for by a plain name (any host), on neither host at first.
  const later = uniqueName('later');

  beforeAll(async () => {
    await beta.start();
    betaDocker = beta.docker!;
    // The same name on both hosts: two containers to headwatch. sh with a TERM trap restarts quickly.
    const script = ['sh', '-c', 'trap "exit 0" TERM; echo up; while true; do sleep 1; done'];
    await runContainer(alpha, { name: ts, cmd: script });
    await runContainer(betaDocker, { name: ts, cmd: script });
    slack = new FakeSlack({ botToken: BOT, appToken: APP, pingMs: 1000 });
    await slack.start();
    const c = beta.certs!;
    const alphaUrl = process.env.DOCKER_HOST ?? TEST_ENGINE ?? 'unix:///var/run/docker.sock';
    hw = await startHeadwatch(
      {
        DOCKER_HOST: '',
        HEADWATCH_DOCKER_HOSTS: `alpha=${alphaUrl},beta=${beta.url}`,
        // Inline PEM for one part, _FILE for the others: both ways work.
        HEADWATCH_DOCKER_TLS_BETA_CA: readFileSync(c.ca, 'utf8'),
        HEADWATCH_DOCKER_TLS_BETA_CERT_FILE: c.clientCert,
        HEADWATCH_DOCKER_TLS_BETA_KEY_FILE: c.clientKey,
        HEADSCALE_CONTAINER: `alpha/${hs}`,
        TAILSCALE_CONTAINERS: `${ts},${later}`,
        CONTAINER_DOWN_SECONDS: '1',
        CONTAINER_MISSING_SECONDS: '2',
        FLAP_COUNT: '12',
        FLAP_WINDOW_SECONDS: '60',
        SLACK_BOT_TOKEN: BOT,
        SLACK_APP_TOKEN: APP,
        SLACK_CHANNEL: CHANNEL,
        SLACK_API_URL: slack.apiUrl,
        HEADWATCH_OPERATORS: 'slack:U0OPER',
        HEADWATCH_APPROVERS: 'slack:U0APPR',
      },
      [ts, hs],
    );
    await slack.waitFor(() => slack.socketCount > 0, 30_000);
  }, 180_000);

  afterAll(async () => {
    await stopAllHeadwatch();
    await slack?.stop();
    if (betaDocker) await removeContainer(betaDocker, ts).catch(() => undefined);
    if (betaDocker) await removeContainer(betaDocker, later).catch(() => undefined);
    await beta.destroy();
  }, 120_000);

  it('watches both, names containers host/container, and /readyz reports each host', async () => {
    const { app } = hw;
    await waitFor('ts on both hosts to be watched', () => {
      const names = app.docker.watched().map((w) => w.name);
      return names.includes(`alpha/${ts}`) && names.includes(`beta/${ts}`);
    });
    expect(app.docker.watched().find((w) => w.name === `beta/${ts}`)).toMatchObject({ host: 'beta', nameOnHost: ts, role: 'tailscale' });
    const ready = (await (await fetch(`http://127.0.0.1:${app.httpPort}/readyz`)).json()) as { checks: { name: string; ok: boolean; detail?: string }[] };
    expect(ready.checks.find((x) => x.name === 'docker:alpha')).toMatchObject({ ok: true });
    expect(ready.checks.find((x) => x.name === 'docker:beta')).toMatchObject({ ok: true, detail: `beta (${beta.url})` });
    const metrics = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
    expect(metrics).toContain('headwatch_docker_host_up{host="beta"} 1');
    expect(metrics).toContain('headwatch_dependency_up{dependency="docker"} 1');
    // The TLS key never shows: not in /readyz, not in /metrics.
    const key = readFileSync(beta.certs!.clientKey, 'utf8').split('\n')[1]!;
    expect(JSON.stringify(ready) + metrics).not.toContain(key);
  });

  it('restart through Slack: a plain name on both hosts is refused listing both; beta/ts restarts on beta only', async () => {
    const started = async (d: Docker) => (await d.getContainer(ts).inspect()).State.StartedAt;
    const alphaBefore = await started(alpha);
    const betaBefore = await started(betaDocker);

    const ack = await slack.slashCommand({ text: `restart ${ts}`, userId: 'U0OPER', userName: 'oper' });
    const refused = () => [ack, ...slack.responses.map((r) => r.body)].map(text).find((t) => t.includes('more than one Docker host'));
    await slack.waitFor(refused).catch(() => {
      throw new Error(`no refusal naming both hosts; replies: ${text([ack, ...slack.responses.map((r) => r.body)]).slice(0, 1500)}`);
    });
    expect(refused()).toContain(`alpha/${ts}, beta/${ts}`);

    await slack.slashCommand({ text: `restart beta/${ts}`, userId: 'U0OPER', userName: 'oper' });
    const card = await slack.waitFor(() => slack.channelMessages().find((m) => m.text.includes(`restart container beta/${ts}`) && text(m.blocks).includes('Approve')));
    const approve = (card.blocks as { type: string; elements?: { action_id: string; text: { text: string } }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.text.text === 'Approve')!.action_id;
    await slack.clickButton({ actionId: approve, messageTs: card.ts, userId: 'U0APPR', userName: 'appr' });
    await slack.waitFor(() => card.text.includes('DONE:'), 30_000);
    expect(await started(betaDocker)).not.toBe(betaBefore);
    expect(await started(alpha)).toBe(alphaBefore);
  });

  it('the same container down on both hosts is two alerts, each naming its host', async () => {
    await Promise.all([alpha.getContainer(ts).stop({ t: 1 }), betaDocker.getContainer(ts).stop({ t: 1 })]);
    for (const host of ['alpha', 'beta']) {
      const a = await hw.hook.waitForAlert(`container-down for ${host}/${ts}`, (x) => x.status === 'firing' && x.kind === 'container-down' && x.subject === `${host}/${ts}`, 30_000);
      expect(a.summary).toContain(`${host}/${ts}`);
    }
    const fps = new Set(hw.hook.alerts().filter((x) => x.kind === 'container-down').map((x) => x.fingerprint));
    expect(fps.size).toBe(2);
  }, 60_000);

  it('a name given without a host: missing while no host has it, naming both; found when it starts on beta', async () => {
    const missing = await hw.hook.waitForAlert(`container-missing for ${later}`, (x) => x.status === 'firing' && x.kind === 'container-missing' && x.subject === later, 30_000);
    expect(missing.summary).toContain(`No container named "${later}" on any Docker host (alpha, beta)`);
    // The name alone is not missing on each host: one alert for it, none for alpha/… or beta/….
    expect(hw.hook.alerts().filter((x) => x.kind === 'container-missing' && x.subject.endsWith(`/${later}`))).toEqual([]);
    await runContainer(betaDocker, { name: later, cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'] });
    const found = await hw.hook.waitForAlert(`container-missing for ${later} resolved`, (x) => x.status === 'resolved' && x.kind === 'container-missing' && x.subject === later, 30_000);
    expect(found.summary).toContain(`beta/${later} exists`);
  }, 60_000);

  it('beta killed: exactly one alert naming it within 60 s, while alpha keeps alerting (a flap logged after the kill)', async () => {
    const killedAt = Date.now();
    beta.kill();
    // Logged on alpha after the kill: still read and judged.
    const node = `flappy-${Math.random().toString(36).slice(2, 8)}`;
    await runContainer(alpha, { name: hs, cmd: printScript(flapLines(7, node, 8)) });
    const flap = await hw.hook.waitForAlert('a flapping alert from alpha', (x) => x.status === 'firing' && x.kind === 'node-flapping', 30_000);
    expect(flap.summary).toContain(node);
    const down = await hw.hook.waitForAlert('docker-unreachable for beta', (x) => x.status === 'firing' && x.kind === 'docker-unreachable', 65_000);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    expect(down.subject).toBe('docker:beta');
    expect(down.labels).toMatchObject({ host: 'beta' });
    expect(down.summary).toMatch(new RegExp(`^Docker host beta \\(${beta.url.replace(/[./]/g, '\\$&')}\\) unreachable`));
    // A moment later: still only that one, nothing about alpha.
    await new Promise((r) => setTimeout(r, 3000));
    expect(hw.hook.alerts().filter((x) => x.kind === 'docker-unreachable' && x.status === 'firing')).toHaveLength(1);
    const ready = (await (await fetch(`http://127.0.0.1:${hw.app.httpPort}/readyz`)).json()) as { checks: { name: string; ok: boolean }[] };
    expect(ready.checks.find((x) => x.name === 'docker:alpha')).toMatchObject({ ok: true });
    expect(ready.checks.find((x) => x.name === 'docker:beta')).toMatchObject({ ok: false });
  }, 120_000);
});

