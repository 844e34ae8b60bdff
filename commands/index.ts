import type { AnyCommand } from '../src/interaction/types.js';
import { nodes } from './nodes.js';
import { deleteNodeCommand } from './delete-node.js';
import { createKeyCommand } from './create-key.js';
import { restartCommand } from './restart.js';
import { rejoinCommand } from './rejoin.js';
import { reregisterCommand } from './reregister.js';
import { incidentsCommand } from './incidents.js';
import { statusCommand } from './status.js';
import { silenceCommand } from './silence.js';
import { alertsCommand } from './alerts.js';
import { auditCommand } from './audit.js';
import { helpCommand } from './help.js';
import { reportCommand } from './report.js';

/** Every `/headscale` subcommand, in the order help lists them. Manifest and Discord registration read this. */
export const COMMANDS: readonly AnyCommand[] = [
  nodes,
  statusCommand,
  alertsCommand,
  incidentsCommand,
  reportCommand,
  deleteNodeCommand,
  createKeyCommand,
  restartCommand,
  rejoinCommand,
  reregisterCommand,
  silenceCommand,
  auditCommand,
  helpCommand,
];

export function findCommand(name: string): AnyCommand | undefined {
  const wanted = name.toLowerCase();
  return COMMANDS.find((c) => c.name === wanted);
}
