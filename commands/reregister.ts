import { z } from 'zod';
import { rejoinable, REJOIN_KEY_TTL_MS } from '../src/actions/rejoin.js';
import { permits } from '../src/actions/containers.js';
import { humanDuration, message } from '../src/interaction/format.js';
import { CommandError, defineCommand, type CommandContext } from '../src/interaction/types.js';
import { firstStepText, playbookCard } from '../src/incidents/message.js';
import type { PlaybookRun } from '../src/incidents/playbook-model.js';

// A node name or id, or a container (`host/container` with several Docker hosts).
const NAME = /^\/?(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\/)?[\p{L}\p{N}][\p{L}\p{N}_.-]{0,127}$/u;

function person(ctx: CommandContext): string {
  return ctx.actor.userName ? `${ctx.actor.userName} (${ctx.actor.principal})` : ctx.actor.principal;
}

/**
 * `reregister <node|container> [--incident n]`: the Re-register playbook, also behind the incident message's
 * Re-register button. After approval: a single-use key valid 10 min for the node's user (a tagged node on
 * 0.28+: a key carrying its tags), expire + delete the node, `tailscale up --force-reauth` with the key in its
 * container, wait (HEADWATCH_REREGISTER_WAIT) for the node to be online again, report its new id. The card
 * shows each step as it happens; a failed step stops the run, the key is expired again, and the card says
 * what was done, undone and what to do next. The key goes into the container's argv only.
 */
export const reregisterCommand = defineCommand({
  name: 'reregister',
  description: 'Re-register a node in its container: new key, delete, tailscale up, wait (needs approval)',
  options: [
    { name: 'target', description: 'Node name or id, or the Tailscale container it runs in', type: 'string', required: true, positional: true },
    { name: 'incident', description: 'Incident this is for (the incident button sets it)', type: 'integer' },
  ],
  access: 'operate',
  needsApproval: () => true,
  examples: ['reregister nas-01', 'reregister ts-nas', 'reregister 7'],
  // The incident message's Re-register button: commandButton('reregister', { target: <node id>, incident }, …).
  button: { what: 're-register nodes' },
  schema: z.object({
    target: z.string().regex(NAME, { error: 'target must be a node name or id, or a container name' }),
    incident: z.coerce.number().int().positive({ error: 'incident must be an incident number' }).optional(),
    // Filled in by prepare and kept with the request, so the card and the run act on the same node.
    container: z.string().optional(),
    node: z.object({ id: z.string(), name: z.string(), user: z.string().optional(), tags: z.array(z.string()) }).optional(),
  }),
  async prepare(ctx, args) {
    const { incidents, headscale, config, docker, clock } = ctx.deps;
    if (!incidents) throw new CommandError('Incidents are off (HEADWATCH_INCIDENTS=false); use rejoin to re-register a container.');
    const nodes = await headscale.listNodes();
    const target = incidents.resolveTarget(args.target, nodes);
    if (!target.container && !target.node) {
      throw new CommandError(`"${args.target}" is neither a watched Tailscale container nor a Headscale node; see ${ctx.command} nodes.`);
    }
    if (!target.node) {
      throw new CommandError(
        `No Headscale node is matched to container ${target.container} (by TS_HOSTNAME, hostname or name). Name the node instead, or tie them with HEADWATCH_NODE_MAP=${target.container}=<node>.`,
      );
    }
    if (!target.container) {
      throw new CommandError(
        `Node ${target.node.name ?? target.node.id} runs in no watched Tailscale container that headwatch can match; set HEADWATCH_NODE_MAP=<container>=${target.node.name ?? target.node.id}, or re-join by hand with ${ctx.command} rejoin.`,
      );
    }
    const allowed = rejoinable(config, docker);
    if (!permits(allowed, target.container, docker)) {
      throw new CommandError(`${target.container} cannot be re-registered from chat. Allowed: ${allowed.join(', ') || 'none'} (HEADWATCH_RESTARTABLE).`);
    }
    const node = nodes.find((n) => n.id === target.node!.id);
    if (!node) throw new CommandError(`Node ${target.node.id} is not in Headscale any more; run ${ctx.command} rejoin ${target.container} instead.`);
    const now = clock();
    const incident = args.incident !== undefined ? incidents.get(args.incident) : incidents.incidentOf({ containers: [target.container], nodes: [node.id] }, now);
    const owner = node.user && node.user.name !== 'tagged-devices' ? node.user.name : undefined;
    const stored = { id: node.id, name: node.name, tags: node.tags, ...(owner ? { user: owner } : {}) };
    const warning = incident ? incidents.causes(incident, now)[0]?.firstStep : undefined;
    const keyFor = node.tags.length > 0 && !owner ? `carrying ${node.tags.join(', ')}` : `for user ${owner ?? '?'}`;
    const summary =
      `re-register node ${node.name} (id ${node.id}) in container ${target.container}${target.matchedBy ? ` (matched by ${target.matchedBy})` : ''}: ` +
      `a single-use key valid ${humanDuration(REJOIN_KEY_TTL_MS)} ${keyFor}, expire and delete the node, tailscale up --force-reauth, wait up to ${humanDuration(config.HEADWATCH_REREGISTER_WAIT)} for it` +
      (warning ? `. ${firstStepText(warning)}` : '');
    return { args: { target: args.target, ...(incident ? { incident: incident.id } : {}), container: target.container, node: stored }, summary };
  },
  async run(ctx, args) {
    const { incidents, headscale, docker, logger, clock, config } = ctx.deps;
    if (!incidents || !args.container || !args.node) throw new CommandError('This request is missing its node; run reregister again.');
    const header = `Re-register ${args.node.name} (id ${args.node.id}) in ${args.container}`;
    const card = (run: PlaybookRun) => playbookCard(run, header);
    const run = await incidents.reregister(
      {
        headscale,
        docker,
        logger,
        clock,
        defaultLoginServer: config.HEADSCALE_URL.replace(/\/+$/, ''),
        waitMs: config.HEADWATCH_REREGISTER_WAIT,
        onProgress: async (r) => {
          await ctx.progress?.(card(r));
        },
      },
      {
        container: args.container,
        node: args.node,
        requestedBy: person(ctx),
        ...(ctx.approval ? { approvedBy: ctx.approval.approvedBy, approvalId: ctx.approval.id } : {}),
        ...(args.incident !== undefined ? { incidentId: args.incident } : {}),
      },
    );
    const final = card(run);
    const audit = {
      runId: run.id,
      container: args.container,
      nodeId: args.node.id,
      state: run.state,
      steps: run.steps.map((s) => `${s.name}:${s.state}`).join(' '),
      ...(run.key ? { keyId: run.key.id, keyPrefix: run.key.prefix, keyExpiredAgain: run.key.expiredAgain ?? false } : {}),
      ...(run.newNodeId ? { newNodeId: run.newNodeId } : {}),
      ...(args.incident !== undefined ? { incident: args.incident } : {}),
    };
    return { message: message(final.fallback, final.tone, final.blocks), card: final, audit, ...(run.state === 'done' ? {} : { failed: true }) };
  },
  async verifyInterrupted(ctx, args, claimedAt) {
    const { incidents, headscale, logger, clock } = ctx.deps;
    if (!incidents || !args.container || !args.node) return { outcome: 'unknown', reason: 'the request names no node' };
    return incidents.verifyInterrupted({ headscale, logger, clock }, args.container, args.node.id, claimedAt);
  },
  manualCheck: (args) =>
    `\`/headscale nodes\` for ${args.node?.name ?? args.target} (a new id online means it re-registered), \`docker logs ${args.container ?? args.target}\`, and expire any unused key with \`headscale preauthkeys list\``,
});
