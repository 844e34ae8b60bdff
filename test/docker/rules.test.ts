import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeDocker, testDocker, uniqueName } from '../support/docker.js';
import { printScript, startHeadwatch, stopAllHeadwatch } from './app-harness.js';
import { runContainer } from './helpers.js';

/** A user rule on a real container: its lines go through the ingest path, the rule fires, and clears when quiet. */
const docker = testDocker();
afterEach(stopAllHeadwatch);

describeDocker('user-defined log rules on a real engine', () => {
  it('fires a log-rule alert with the matched groups and resolves it after clear_after', async () => {
    const ts = uniqueName('tailscale');
    const rulesFile = join(mkdtempSync(join(tmpdir(), 'hw-rules-')), 'rules.yaml');
    writeFileSync(
      rulesFile,
      `rules:
  - name: exit-node-down
    containers: ['${ts.slice(0, 6)}*']
    regex: 'exit node ([\\w-]+) unreachable'
    count: 2
    window: 1m
    clear_after: 3s
    severity: critical
    summary: 'Exit node $1 unreachable from $container'
`,
    );
    const { hook } = await startHeadwatch({ HEADSCALE_CONTAINER: uniqueName('no-headscale'), TAILSCALE_CONTAINERS: ts, HEADWATCH_RULES_FILE: rulesFile }, [ts]);
    await runContainer(docker, {
      name: ts,
      cmd: printScript([{ text: '2026/11/26 08:19:34 exit node fra-1 unreachable' }, { text: 'unrelated line' }, { text: '2026/11/26 08:19:35 exit node fra-1 unreachable', stderr: true }]),
    });
    const fired = await hook.waitForAlert('log-rule firing', (a) => a.kind === 'log-rule' && a.status === 'firing');
    expect(fired).toMatchObject({ fingerprint: `log-rule:exit-node-down@${ts}`, severity: 'critical', signatureValid: true });
    expect(fired.summary).toContain(`Exit node fra-1 unreachable from ${ts}`);
    const resolved = await hook.waitForAlert('log-rule resolved', (a) => a.kind === 'log-rule' && a.status === 'resolved', 20_000);
    expect(resolved.fingerprint).toBe(`log-rule:exit-node-down@${ts}`);
  });
});
