import { createKey, expireKey, keyPrefix } from '../actions/keys.js';
import { deleteNode } from '../actions/nodes.js';
import { joinWithKey, REJOIN_KEY_TTL_MS, scrub } from '../actions/rejoin.js';
import { utc } from '../interaction/format.js';
import { headscaleMinor } from '../detectors/capver.js';
import type { Logger } from '../log/logger.js';
import { HeadscaleError, type HeadscaleApi, type HsPreAuthKey } from '../sources/headscale/types.js';
import type { ContainerControl } from '../actions/containers.js';
import type { PlaybookRepository } from '../store/playbooks.js';
import { freshSteps, type PlaybookNode, type PlaybookRun, type PlaybookStep, type StepName } from './playbook-model.js';
import { normaliseHostname } from './topology.js';

export interface ReregisterDeps {
  headscale: HeadscaleApi;
  docker: ContainerControl;
  repo: PlaybookRepository;
  logger: Logger;
  clock: () => number;
  /** HEADSCALE_URL, for a container whose TS_EXTRA_ARGS name no --login-server. */
  defaultLoginServer: string;
  /** HEADWATCH_REREGISTER_WAIT: how long to wait for the node to come back online. */
  waitMs: number;
  /** Between node-list polls while waiting (default 2 s). */
  pollMs?: number;
  /** Called after every step change (the card shows it); failures to show progress never stop the run. */
  onProgress?: (run: PlaybookRun) => Promise<void> | void;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReregisterInput {
  container: string;
  node: PlaybookNode;
  requestedBy: string;
  approvedBy?: string;
  incidentId?: number;
  approvalId?: number;
  loginServer?: string;
}

class StepFailed extends Error {
  constructor(
    message: string,
    /** What the operator should do now. */
    readonly next: string,
  ) {
    super(message);
  }
}

function errText(err: unknown, key?: string): string {
  const m = err instanceof Error ? err.message : String(err);
  const flat = scrub(m, key ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}

/**
 * Runs the Re-register playbook once (the caller has claimed the approved request): a single-use key valid
 * 10 min for the node's user (for a tagged node on 0.28+, a key carrying its tags), expire + delete the node,
 * `tailscale up --force-reauth` in the container with that key, wait (bounded) for a node with the same
 * hostname to come online, report its id. The first failing step stops the run; the key is expired again and
 * the run says what was done, what was undone and what to do next. The key lives in this function's memory
 * only: the stored run, the card, logs and audit see its id and prefix.
 */
export async function runReregister(deps: ReregisterDeps, input: ReregisterInput): Promise<PlaybookRun> {
  const now = deps.clock();
  const run = deps.repo.create({
    container: input.container,
    node: input.node,
    requestedBy: input.requestedBy,
    ...(input.approvedBy ? { approvedBy: input.approvedBy } : {}),
    ...(input.incidentId !== undefined ? { incidentId: input.incidentId } : {}),
    ...(input.approvalId !== undefined ? { approvalId: input.approvalId } : {}),
    state: 'running',
    steps: freshSteps(),
    undone: [],
    startedAt: now,
    updatedAt: now,
  });
  const show = async () => {
    run.updatedAt = deps.clock();
    deps.repo.save(run);
    try {
      await deps.onProgress?.(structuredClone(run));
    } catch (err) {
      deps.logger.warn({ runId: run.id, err: errText(err) }, 'could not show re-register progress on the card');
    }
  };
  let created: HsPreAuthKey | undefined;
  const step = async (name: StepName, fn: () => Promise<Pick<PlaybookStep, 'state' | 'detail'>>): Promise<void> => {
    const s = run.steps.find((x) => x.name === name)!;
    s.state = 'running';
    s.startedAt = deps.clock();
    await show();
    try {
      const r = await fn();
      s.state = r.state;
      if (r.detail) s.detail = r.detail;
    } catch (err) {
      s.state = 'failed';
      s.detail = err instanceof StepFailed ? err.message : errText(err, created?.key);
      s.finishedAt = deps.clock();
      throw err instanceof StepFailed ? err : new StepFailed(s.detail, 'See the headwatch log for details and run Re-register again once the cause is fixed.');
    }
    s.finishedAt = deps.clock();
    await show();
  };

  try {
    await step('create-key', async () => {
      created = await createRunKey(deps, run, now);
      const expires = Date.parse(created.expiration ?? '') || now + REJOIN_KEY_TTL_MS;
      run.key = { id: created.id, prefix: keyPrefix(created.key), expires, tags: [...created.aclTags], ...(created.user?.name ? { user: created.user.name } : {}) };
      const owner = run.key.user ? `for user ${run.key.user}` : `carrying ${run.key.tags.join(', ')}`;
      return { state: 'done', detail: `key ${run.key.prefix} ${owner}, single-use, expires ${utc(expires)}` };
    });
    await step('delete-node', () => expireAndDelete(deps, run.node));
    await step('rejoin', () => rejoinStep(deps, input, run.node.id, created!.key));
    let newId = '';
    await step('wait-online', async () => {
      const found = await waitOnline(deps, run.node);
      if (!found) {
        throw new StepFailed(
          `no node named ${run.node.name} came online within ${Math.round(deps.waitMs / 1000)} s`,
          `Check \`docker logs ${input.container}\` (look for "Startup complete" or a login error) and \`/headscale nodes\`; if the container is stuck, restart it once TS_AUTHKEY holds a valid key or TS_AUTH_ONCE=true.`,
        );
      }
      newId = found;
      return { state: 'done', detail: `node ${run.node.name} is online again as id ${found}` };
    });
    await step('report', async () => {
      run.newNodeId = newId;
      return { state: 'done', detail: `new node id ${newId} (was ${run.node.id})` };
    });
    run.state = 'done';
    run.finishedAt = deps.clock();
    await show();
    return run;
  } catch (err) {
    const failed = err instanceof StepFailed ? err : new StepFailed(errText(err, created?.key), 'See the headwatch log.');
    await undo(deps, run, created);
    run.state = 'failed';
    run.next = failed.next;
    run.finishedAt = deps.clock();
    await show();
    deps.logger.warn({ runId: run.id, container: run.container, node: run.node.id, keyPrefix: run.key?.prefix }, `re-register failed: ${failed.message}`);
    return run;
  }
}

/** The rejoin step: `tailscale up --force-reauth` with the fresh key in the container, and what its exit means. */
async function rejoinStep(deps: ReregisterDeps, input: ReregisterInput, oldNodeId: string, key: string): Promise<Pick<PlaybookStep, 'state' | 'detail'>> {
  const out = await joinWithKey(
    { docker: deps.docker },
    { container: input.container, key, ...(input.loginServer ? { loginServer: input.loginServer } : {}), defaultLoginServer: deps.defaultLoginServer },
  );
  const tail = out.outputTail ? ` Output: ${out.outputTail}` : '';
  const prefs = out.restated ? ", restating containerboot's preferences" : '';
  if (out.exitCode === 0) return { state: 'done', detail: `tailscale up --force-reauth exited 0 against ${out.loginServer}${prefs}.${tail}` };
  if (out.exitCode === -1 && out.execError === undefined) {
    // containerboot exits when tailscaled leaves Running (tailscale.md §4.3): the re-join may still have worked.
    return { state: 'unknown', detail: `tailscale up ended without an exit code: ${input.container} probably restarted (containerboot exits when tailscaled leaves Running); checking whether the node comes back.${tail}` };
  }
  const what = out.execError !== undefined ? `could not run tailscale up in ${input.container}: ${out.execError}` : `tailscale up in ${input.container} exited with code ${out.exitCode}.${tail}`;
  throw new StepFailed(
    what,
    `Node ${oldNodeId} is deleted and ${input.container} did not re-join. Fix what the output says, then run \`/headscale rejoin ${input.container}\` (a fresh key), or restart the container with a valid TS_AUTHKEY.`,
  );
}

async function createRunKey(deps: ReregisterDeps, run: PlaybookRun, now: number): Promise<HsPreAuthKey> {
  let minor: number | undefined;
  try {
    minor = headscaleMinor((await deps.headscale.serverInfo()).version);
  } catch {
    minor = undefined;
  }
  // 0.28+ tagged nodes have no user ("tags as identity"): their key carries the tags instead (headscale.md §4.1).
  const tagged = run.node.tags.length > 0 && (minor === undefined || minor >= 28);
  if (!tagged && !run.node.user) {
    throw new StepFailed(
      `node ${run.node.id} has neither a user nor tags, so there is nobody to create its key for`,
      `Create a key by hand (\`/headscale create-key <user>\`) and re-join with \`/headscale rejoin ${run.container} --user <user>\`.`,
    );
  }
  try {
    return await createKey(
      deps.headscale,
      { ...(tagged ? {} : { user: run.node.user! }), reusable: false, ephemeral: false, expirationMs: REJOIN_KEY_TTL_MS, tags: tagged ? run.node.tags : [] },
      now,
    );
  } catch (err) {
    throw new StepFailed(`Headscale did not create the key: ${errText(err)}`, 'Nothing was changed. Check HEADSCALE_API_KEY and that the user still exists, then run Re-register again.');
  }
}

async function expireAndDelete(deps: ReregisterDeps, node: PlaybookNode): Promise<Pick<PlaybookStep, 'state' | 'detail'>> {
  try {
    await deps.headscale.getNode(node.id);
  } catch (err) {
    if (err instanceof HeadscaleError && err.code === 'not-found') return { state: 'skipped', detail: `node ${node.id} was already gone` };
    throw new StepFailed(`could not look up node ${node.id}: ${errText(err)}`, 'Nothing was deleted. Check that Headscale answers (HEADSCALE_URL) and run Re-register again.');
  }
  try {
    const out = await deleteNode(deps.headscale, node.id);
    return { state: 'done', detail: `node ${node.name} (id ${node.id}) ${out.expiredFirst ? 'expired, then deleted' : 'deleted'}` };
  } catch (err) {
    throw new StepFailed(
      `Headscale refused to delete node ${node.id}: ${errText(err)}`,
      `Node ${node.id} is still registered. Check HEADSCALE_API_KEY, delete it by hand (\`headscale nodes delete -i ${node.id} --force\`) or fix the refusal, then run Re-register again.`,
    );
  }
}

/** Polls the node list until a node with the same hostname and a new id is online; its id, or undefined. */
async function waitOnline(deps: ReregisterDeps, node: PlaybookNode): Promise<string | undefined> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = deps.clock() + deps.waitMs;
  for (;;) {
    try {
      const back = await nodeBack(deps.headscale, node);
      if (back) return back;
    } catch (err) {
      deps.logger.debug({ err: errText(err) }, 're-register: node list failed while waiting; trying again');
    }
    if (deps.clock() >= deadline) return undefined;
    await sleep(Math.min(deps.pollMs ?? 2000, Math.max(50, deadline - deps.clock())));
  }
}

/** After a failure: expire the run's key again, so nothing usable is left behind. */
async function undo(deps: ReregisterDeps, run: PlaybookRun, created: HsPreAuthKey | undefined): Promise<void> {
  if (!created || !run.key) return;
  try {
    await expireKey(deps.headscale, created);
    run.key.expiredAgain = true;
    run.undone.push(`key ${run.key.prefix} expired again`);
  } catch (err) {
    run.key.expiredAgain = false;
    run.undone.push(`expiring key ${run.key.prefix} failed (${errText(err, created.key)}): expire it with \`headscale preauthkeys expire\`; it stops working by itself at ${utc(run.key.expires)}`);
  }
}

/**
 * Runs that were running when headwatch stopped: never continued. Steps that were running become unknown,
 * the key (if one was created) is expired again where the release allows it by id (0.28+; older releases need
 * the full key, which headwatch never kept), and the run says what to check.
 */
export async function recoverInterrupted(deps: Pick<ReregisterDeps, 'headscale' | 'repo' | 'logger' | 'clock'>): Promise<PlaybookRun[]> {
  const out: PlaybookRun[] = [];
  for (const run of deps.repo.running()) out.push(await recoverRun(deps, run));
  return out;
}

export async function recoverRun(deps: Pick<ReregisterDeps, 'headscale' | 'repo' | 'logger' | 'clock'>, run: PlaybookRun): Promise<PlaybookRun> {
  if (run.state !== 'running') return run;
  for (const s of run.steps) if (s.state === 'running') s.state = 'unknown';
  const at = run.steps.find((s) => s.state === 'unknown');
  if (run.key && run.key.expiredAgain === undefined) {
    try {
      await expireKey(deps.headscale, { id: run.key.id, key: '', user: run.key.user ? { id: '', name: run.key.user } : null });
      run.key.expiredAgain = true;
      run.undone.push(`key ${run.key.prefix} expired again after the restart`);
    } catch (err) {
      run.key.expiredAgain = false;
      run.undone.push(`key ${run.key.prefix} could not be expired after the restart (${errText(err)}); it stops working by itself at ${utc(run.key.expires)}`);
    }
  }
  run.state = 'interrupted';
  run.next = `headwatch stopped while ${at ? `"${at.name}"` : 'the run'} was running; it is not run again by itself. Check \`/headscale nodes\` for ${run.node.name} and \`docker logs ${run.container}\`, then run Re-register again if the node is not back.`;
  run.finishedAt = deps.clock();
  run.updatedAt = run.finishedAt;
  deps.repo.save(run);
  deps.logger.warn({ runId: run.id, container: run.container }, 're-register run was interrupted by a restart; not continued');
  return run;
}

/** A node with this hostname online under another id than `oldId` (the re-registered node), if any. */
export async function nodeBack(headscale: HeadscaleApi, node: PlaybookNode): Promise<string | undefined> {
  const wanted = normaliseHostname(node.name);
  const nodes = await headscale.listNodes();
  return nodes.find((n) => n.id !== node.id && n.online && (normaliseHostname(n.name) === wanted || normaliseHostname(n.givenName) === wanted))?.id;
}
