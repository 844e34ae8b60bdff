/**
 * The Re-register playbook as data: the steps it runs in order and the state of each, so the card can show
 * them as they happen and a crash leaves an honest record. Order: the key first (a node deleted before a key
 * exists would leave the container with nothing to re-join with), then expire + delete, re-join, wait, report.
 */
export const STEP_NAMES = ['create-key', 'delete-node', 'rejoin', 'wait-online', 'report'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'unknown';

export const STEP_TITLES: Record<StepName, string> = {
  'create-key': 'Create a single-use key valid 10 min',
  'delete-node': 'Expire and delete the node',
  rejoin: 'Re-join the container (tailscale up --force-reauth)',
  'wait-online': 'Wait until the node is online again',
  report: 'Report the new node id',
};

export interface PlaybookStep {
  name: StepName;
  state: StepState;
  startedAt?: number;
  finishedAt?: number;
  /** What happened, in operator words (never a secret). */
  detail?: string;
}

export interface PlaybookNode {
  id: string;
  name: string;
  /** Owner, when the node has one (a tagged node on 0.28+ has none). */
  user?: string;
  tags: string[];
}

export interface PlaybookRun {
  id: number;
  incidentId?: number;
  approvalId?: number;
  container: string;
  node: PlaybookNode;
  /** Display names: `alice (slack:U1)`. */
  requestedBy: string;
  approvedBy?: string;
  state: 'running' | 'done' | 'failed' | 'interrupted';
  steps: PlaybookStep[];
  /** The key by id and prefix only. */
  key?: { id: string; prefix: string; expires: number; user?: string; tags: string[]; expiredAgain?: boolean };
  newNodeId?: string;
  /** What was undone after a failure ("key hskey-auth-abc… expired again"). */
  undone: string[];
  /** What the operator should do next, after a failure. */
  next?: string;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
}

export function freshSteps(): PlaybookStep[] {
  return STEP_NAMES.map((name) => ({ name, state: 'pending' as const }));
}
