import { afterEach, describe, expect, it } from 'vitest';
import { allText, cardButtons, startRig, type Rig } from './harness.js';

/**
 * Issue 8 (4): an approved action interrupted by a crash is verified at the next start — the node looked up,
 * the user's keys listed — and the card and the audit say what happened. It is never run again.
 *
 * The crash: the fake Headscale carries out the request but never answers, so the old router hangs after the
 * action took effect; its database handle is then closed (it can write nothing more, as after SIGKILL) and a new
 * router starts over the same file.
 */
let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function approveAndCrashDuring(r: Rig, command: string, method: string, path: string): Promise<number> {
  const req = await r.command('slack', 'UOP', command);
  const { approve } = cardButtons(req);
  const id = r.router.approvals.pending()[0]!.id;
  r.hs.withholdAnswers(method, path);
  void r.click('slack', 'UAP', approve).catch(() => undefined);
  for (let i = 0; i < 200 && r.hs.requestsTo(method, path).length === 0; i++) await new Promise((res) => setTimeout(res, 10));
  expect(r.hs.requestsTo(method, path)).toHaveLength(1);
  expect(r.router.approvals.get(id)!.state).toBe('running');
  return id;
}

async function restartAndVerify(r: Rig) {
  const router = r.restart();
  router.start(60_000);
  await router.interruptedVerified;
  return router;
}

describe('an action interrupted by a crash is verified at the next start', () => {
  it('delete-node killed after the DELETE reached Headscale: DONE, completed (verified after restart), audit verified', async () => {
    rig = await startRig();
    const id = await approveAndCrashDuring(rig, 'delete-node 1', 'DELETE', '/api/v1/node/1');
    const router = await restartAndVerify(rig);

    const a = router.approvals.get(id)!;
    expect(a.state).toBe('done');
    expect(a.result).toBe('completed (verified after restart): node 1 (laptop, user alice) is no longer in Headscale');
    const card = rig.edits.at(-1)!.message;
    expect(card.fallback).toMatch(/^DONE: delete node 1/);
    expect(allText(card)).toContain('completed (verified after restart)');
    const verified = router.audit.forRequest(id).filter((r) => r.event === 'verified');
    expect(verified).toHaveLength(1);
    expect(verified[0]!.detail).toMatchObject({ outcome: 'completed' });
    expect(router.audit.verify().ok).toBe(true);
    // Never run again: one DELETE in all.
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  });

  it('delete-node killed after the expiry, before the DELETE: did not run (the node is still there, expired)', async () => {
    rig = await startRig();
    const id = await approveAndCrashDuring(rig, 'delete-node 2', 'POST', '/api/v1/node/2/expire');
    rig.clock.now = Date.now(); // the fake Headscale stamps the expiry with wall time
    const router = await restartAndVerify(rig);
    const a = router.approvals.get(id)!;
    expect(a.state).toBe('failed');
    expect(a.result).toBe(
      'did not run (verified after restart): node 2 (server, user bob) is still in Headscale; it was expired (its client is logged out) but not deleted. Request it again if it is still needed.',
    );
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/2')).toHaveLength(0);
    expect(router.audit.forRequest(id).find((r) => r.event === 'verified')!.detail).toMatchObject({ outcome: 'not-run' });
  });

  it('Headscale unreachable at the next start: unknown, with the exact check to make', async () => {
    rig = await startRig();
    const id = await approveAndCrashDuring(rig, 'delete-node 3', 'DELETE', '/api/v1/node/3');
    await rig.hs.down();
    const router = await restartAndVerify(rig);
    const a = router.approvals.get(id)!;
    expect(a.state).toBe('failed');
    expect(a.result).toMatch(/^unknown: headwatch stopped while this was running and could not verify it \(.+\) — check `headscale nodes list` for node 3 \(phone, user alice\)\.$/);
    expect(router.audit.forRequest(id).find((r) => r.event === 'verified')!.detail).toMatchObject({
      outcome: 'unknown',
      check: '`headscale nodes list` for node 3 (phone, user alice)',
    });
    await rig.hs.up();
  });

  it('create-key killed after Headscale made the key: nobody received it, so it is expired again; the card says so', async () => {
    rig = await startRig();
    const id = await approveAndCrashDuring(rig, 'create-key alice', 'POST', '/api/v1/preauthkey');
    const router = await restartAndVerify(rig);
    const key = rig.hs.state.preAuthKeys[0]!;
    expect(Date.parse(key.expiration)).toBeLessThanOrEqual(Date.now());
    const a = router.approvals.get(id)!;
    expect(a.state).toBe('failed');
    expect(a.result).toMatch(/^completed \(verified after restart\): pre-auth key hskey-auth-\w+-… for user alice was created, but headwatch stopped before it reached the requester, so it was expired again\. Run the command again$/);
    expect(allText(rig.edits.at(-1)!.message)).not.toContain(key.key);
    expect(rig.hs.requestsTo('POST', '/api/v1/preauthkey')).toHaveLength(1);
  });

  it('an approved request that never started: did not run, nothing called', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 2'));
    const id = rig.router.approvals.pending()[0]!.id;
    rig.router.approvals.vote(id, 'slack:UAP', 'ap', 'approve', rig.clock.now);
    const router = await restartAndVerify(rig);
    expect(router.approvals.get(id)!.result).toMatch(/^did not run: headwatch stopped after the approval, before the action started/);
    await rig.click('slack', 'UAP2', approve);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/2')).toHaveLength(0);
    expect(rig.hs.requestsTo('POST', '/api/v1/node/2/expire')).toHaveLength(0);
  });
});
