import type { Alert, Severity } from '../alerts/model.js';
import { formatDuration } from '../dispatch/messages.js';
import type { Block, Button, Message, Tone } from '../messages/model.js';
import { reregisterButton, restartButton, silenceButton } from './actions.js';
import { describeNodes, nodeLabel } from './correlate.js';
import type { Cause, FirstStep, Incident, IncidentMember, NodeRef } from './model.js';
import { CAUSE_TITLES } from './model.js';
import { STEP_TITLES, type PlaybookRun, type StepState } from './playbook-model.js';

/**
 * Everything an incident message shows, gathered by IncidentViews; the message is a pure function of it so
 * every destination (Slack, Discord, console, webhook) tells the same story.
 */
export interface IncidentView {
  incident: Incident;
  /** Members to list (bounded), firing first, each with its stored alert. */
  members: { member: IncidentMember; alert?: Alert }[];
  counts: { firing: number; total: number };
  /** Server incidents: the nodes concerned. */
  nodes: { nodes: NodeRef[]; total: number };
  causes: Cause[];
  playbook?: PlaybookRun;
  /** Set while a silence covers the incident. */
  silencedNote?: string;
  /** Which buttons make sense for this incident (a container to restart, a node to re-register). */
  canReregister: boolean;
  canRestart: boolean;
  now: number;
}

const MAX_MEMBERS_SHOWN = 8;
const MAX_CAUSES_DETAILED = 3;
const MARK: Record<Severity, string> = { critical: '🔴', warning: '🟠', info: 'ℹ️' };

export function severityOf(view: Pick<IncidentView, 'members'>): Severity {
  const firing = view.members.filter((m) => m.member.status === 'firing' && m.alert);
  if (firing.some((m) => m.alert!.severity === 'critical')) return 'critical';
  if (firing.some((m) => m.alert!.severity === 'warning')) return 'warning';
  return 'info';
}

/** `nas-01 (id 7) · ts-nas`, `Headscale server (headscale) · 12 nodes`. */
export function incidentSubject(i: Incident, nodes?: { total: number }): string {
  if (i.scope === 'server') return `Headscale server${i.container ? ` (${i.container})` : ''}${nodes && nodes.total > 0 ? ` · ${nodes.total} node${nodes.total === 1 ? '' : 's'}` : ''}`;
  const parts = [i.node ? nodeLabel(i.node) : undefined, i.container].filter((p): p is string => !!p);
  return parts.join(' · ') || `incident ${i.id}`;
}

function title(view: IncidentView): string {
  const i = view.incident;
  const subject = incidentSubject(i, view.nodes);
  if (i.status === 'merged') return `MERGED · Incident #${i.id} → #${i.mergedInto} · ${subject}`;
  if (i.status === 'resolved') return `RESOLVED · Incident #${i.id} · ${subject}`;
  return `${severityOf(view).toUpperCase()} · Incident #${i.id} · ${subject}`;
}

function whoWhat(view: IncidentView): string {
  const i = view.incident;
  if (i.scope === 'server') {
    const nodes = view.nodes.total > 0 ? ` — ${view.nodes.total} node${view.nodes.total === 1 ? '' : 's'} affected: ${describeNodes(view.nodes.nodes, view.nodes.total)}` : '';
    return `The Headscale server${i.container ? ` (container ${i.container})` : ''}${nodes}. One incident for the server, not one per node: the cause is on its side.`;
  }
  if (i.node && i.container) return `Node ${nodeLabel(i.node)} and its container ${i.container}${i.matchedBy ? ` — matched by ${i.matchedBy}` : ''}.`;
  if (i.container) return `Container ${i.container}. No Headscale node is matched to it yet (by TS_HOSTNAME, hostname or name); set HEADWATCH_NODE_MAP=${i.container}=<node> if its node is named differently.`;
  if (i.node) return `Node ${nodeLabel(i.node)}. No watched Tailscale container is matched to it (by TS_HOSTNAME, hostname or name); set HEADWATCH_NODE_MAP=<container>=${i.node.name ?? i.node.id} to tie them.`;
  return `Incident ${i.id}.`;
}

function statusLine(view: IncidentView): string {
  const i = view.incident;
  if (i.status === 'merged') return `Merged into incident #${i.mergedInto}: several nodes were in trouble at once, so the server is the likely common cause. Follow that incident.`;
  if (i.status === 'resolved') {
    const lasted = formatDuration((i.resolvedAt ?? view.now) - i.openedAt);
    const rr = i.reregister?.ok ? `; resolved ${Math.max(0, Math.round(((i.resolvedAt ?? view.now) - i.reregister.at) / 60_000))} min after Re-register by ${i.reregister.by}` : '';
    return `Resolved after ${lasted}: every member alert cleared${rr}.`;
  }
  return `Open for ${formatDuration(view.now - i.openedAt)} · ${view.counts.firing} of ${view.counts.total} alert${view.counts.total === 1 ? '' : 's'} firing.`;
}

export function firstStepText(step: FirstStep): string {
  if (step.kind === 'upgrade-headscale') {
    const change = step.imageChange ? ` In the compose file: \`${step.imageChange.replace(' → ', '` → `')}\`, then \`docker compose up -d\` for that service.` : ` Set the Headscale image tag to ${step.to} (e.g. headscale/headscale:${step.to}).`;
    const rest = step.path.slice(1);
    const more = rest.length ? ` 0.29 refuses to skip minor releases: continue one minor at a time (${rest.join(' → ')}).` : '';
    return `⚠️ Upgrade Headscale to ${step.to} first: re-registering alone will not stop the loop.${change}${more} headwatch notices the new release by itself.`;
  }
  const change = step.imageChange ? ` (${step.imageChange})` : '';
  return `⚠️ Upgrade the Tailscale client${step.container ? ` in ${step.container}` : ''} to ${step.minimum} or newer first${change}: the server rejects it, and re-registering cannot help while it does. Headscale is not the one to change.`;
}

function causeBlocks(view: IncidentView): Block[] {
  const resolved = view.incident.status !== 'open';
  const blocks: Block[] = [{ type: 'header', text: resolved ? 'Likely cause (as diagnosed)' : 'Likely cause' }];
  if (view.causes.length === 0) {
    blocks.push({
      type: 'text',
      text: `No cause has evidence: none of the known causes (${Object.values(CAUSE_TITLES).join('; ')}) matched what headwatch saw, so it does not guess. The member alerts and their evidence are below; look at the Headscale and Tailscale logs around the first alert.`,
    });
    return blocks;
  }
  view.causes.slice(0, MAX_CAUSES_DETAILED).forEach((c, n) => {
    blocks.push({ type: 'text', text: `${n + 1}. ${c.title} (\`${c.name}\`) — ${c.fix}` });
    if (c.evidence.length > 0) blocks.push({ type: 'code', text: c.evidence.join('\n') });
  });
  const rest = view.causes.slice(MAX_CAUSES_DETAILED);
  if (rest.length > 0) blocks.push({ type: 'context', text: `Also with some evidence: ${rest.map((c) => `${c.title} (\`${c.name}\`)`).join(', ')}` });
  return blocks;
}

export function memberLine(m: { member: IncidentMember; alert?: Alert }): string {
  const a = m.alert;
  const mark = m.member.status === 'resolved' ? '✅' : a ? MARK[a.severity] : '•';
  return `${mark} ${m.member.kind} · ${a?.subject ?? m.member.fingerprint}${a ? ` — ${a.summary}` : ''}`;
}

const STEP_MARK: Record<StepState, string> = { pending: '▫️', running: '⏳', done: '✅', failed: '❌', skipped: '⏭️', unknown: '❔' };

/** One line per step, as the card and the incident show them. */
export function stepLines(run: PlaybookRun): string[] {
  return run.steps.map((s, n) => `${STEP_MARK[s.state]} ${n + 1}. ${STEP_TITLES[s.name]}${s.detail ? ` — ${s.detail}` : s.state === 'pending' && run.state !== 'running' ? ' — not run' : ''}`);
}

function playbookLine(run: PlaybookRun): string {
  const by = `Re-register #${run.id} requested by ${run.requestedBy}${run.approvedBy ? `, approved by ${run.approvedBy}` : ''}`;
  if (run.state === 'running') {
    const at = run.steps.findIndex((s) => s.state === 'running');
    return `${by}: running — step ${at + 1} of ${run.steps.length}: ${at >= 0 ? STEP_TITLES[run.steps[at]!.name] : ''}`;
  }
  if (run.state === 'done') return `${by}: done — node online again as id ${run.newNodeId}.`;
  const failed = run.steps.find((s) => s.state === 'failed' || s.state === 'unknown');
  return `${by}: ${run.state} at "${failed ? STEP_TITLES[failed.name] : '?'}"${failed?.detail ? ` (${failed.detail})` : ''}.${run.undone.length ? ` Undone: ${run.undone.join('; ')}.` : ''}${run.next ? ` Next: ${run.next}` : ''}`;
}

export function incidentMessage(view: IncidentView): Message {
  const i = view.incident;
  const open = i.status === 'open';
  const tone: Tone = i.status === 'resolved' ? 'ok' : i.status === 'merged' ? 'neutral' : severityOf(view);
  const blocks: Block[] = [
    { type: 'header', text: title(view) },
    { type: 'text', text: `${whoWhat(view)}\n${statusLine(view)}` },
  ];
  const step = open ? view.causes[0]?.firstStep : undefined;
  if (step) blocks.push({ type: 'text', text: firstStepText(step) });
  if (i.status !== 'merged') blocks.push(...causeBlocks(view));
  const shown = view.members.slice(0, MAX_MEMBERS_SHOWN);
  if (shown.length > 0) {
    const more = view.counts.total - shown.length;
    blocks.push({ type: 'header', text: `Alerts in this incident (${view.counts.firing} firing of ${view.counts.total})` });
    blocks.push({ type: 'text', text: shown.map(memberLine).join('\n') + (more > 0 ? `\n…and ${more} more (listed in the thread)` : '') });
  }
  if (view.playbook) blocks.push({ type: 'text', text: playbookLine(view.playbook) });
  if (view.silencedNote) blocks.push({ type: 'context', text: view.silencedNote });
  if (open) {
    const buttons: Button[] = [];
    // Re-register is the suggested next step unless an upgrade has to come first.
    const rr = view.canReregister ? reregisterButton(i, step ? 'default' : 'primary') : undefined;
    const restart = view.canRestart ? restartButton(i) : undefined;
    if (rr) buttons.push(rr);
    if (restart) buttons.push(restart);
    buttons.push(silenceButton(i));
    blocks.push({ type: 'buttons', buttons });
  }
  const fps = view.members.slice(0, 12).map((m) => m.member.fingerprint);
  blocks.push({ type: 'context', text: `incident #${i.id} · opened ${new Date(i.openedAt).toISOString()} · members ${fps.join(', ')}${view.counts.total > fps.length ? ` …(+${view.counts.total - fps.length})` : ''}` });
  const top = view.causes[0];
  const kinds = [...new Set(view.members.filter((m) => m.member.status === 'firing').map((m) => m.member.kind))];
  const fallback = `${title(view)}: ${top ? `likely ${top.name}` : 'no cause has evidence'}; ${view.counts.firing} of ${view.counts.total} alerts firing${kinds.length ? ` (${kinds.join(', ')})` : ''}`;
  return { fallback, tone, blocks };
}

/** The approval card of a Re-register request once it runs: every step as it happens. */
export function playbookCard(run: PlaybookRun, header: string): Message {
  const stateTitle = { running: 'RUNNING', done: 'DONE', failed: 'FAILED', interrupted: 'INTERRUPTED' }[run.state];
  const tone: Tone = run.state === 'done' ? 'ok' : run.state === 'running' ? 'info' : 'critical';
  const blocks: Block[] = [
    { type: 'header', text: `${stateTitle}: ${header}` },
    { type: 'fields', fields: [{ label: 'Requested by', value: run.requestedBy }, { label: 'Approved by', value: run.approvedBy ?? '—' }] },
    { type: 'text', text: stepLines(run).join('\n') },
  ];
  if (run.state !== 'running' && run.state !== 'done') {
    const done = run.steps.filter((s) => s.state === 'done').map((s) => STEP_TITLES[s.name].toLowerCase());
    blocks.push({
      type: 'text',
      text: `Done: ${done.length ? done.join('; ') : 'nothing'}.\nUndone: ${run.undone.length ? run.undone.join('; ') : 'nothing to undo'}.\nNext: ${run.next ?? 'see the headwatch log'}`,
    });
  }
  if (run.state === 'done') {
    blocks.push({ type: 'context', text: 'On its next start containerboot sends TS_AUTHKEY again: update it in the container definition or set TS_AUTH_ONCE=true.' });
  }
  blocks.push({ type: 'context', text: `Re-register #${run.id}${run.incidentId !== undefined ? ` · incident #${run.incidentId}` : ''}${run.key ? ` · key ${run.key.prefix}` : ''}` });
  const last = [...run.steps].reverse().find((s) => s.state !== 'pending');
  return { fallback: `${stateTitle}: ${header}${last ? ` — ${STEP_TITLES[last.name]}: ${last.state}${last.detail ? ` (${last.detail})` : ''}` : ''}`, tone, blocks };
}
