import type { Config } from '../config/schema.js';

/**
 * Who may do what, from HEADWATCH_OPERATORS (run every command, request actions), HEADWATCH_APPROVERS
 * (approve or deny) and HEADWATCH_ADMINS (both). Principals are `<platform>:<userId>`.
 */
export type Capability = 'request' | 'approve';

/**
 * Who may run a command: `read` anyone in the channel, `operate` HEADWATCH_OPERATORS / ADMINS,
 * `review` anyone with a configured role (operators, approvers, admins).
 */
export type Access = 'read' | 'operate' | 'review';

export const ROLE_HELP =
  'Ask an administrator to add your id to HEADWATCH_OPERATORS (run commands and request actions) or ' +
  'HEADWATCH_APPROVERS (approve or deny), e.g. HEADWATCH_OPERATORS=slack:U0123ABCD,discord:112233445566778899, ' +
  'then restart headwatch.';

export class Roles {
  private readonly operators: Set<string>;
  private readonly approvers: Set<string>;
  private readonly admins: Set<string>;

  constructor(config: Pick<Config, 'HEADWATCH_OPERATORS' | 'HEADWATCH_APPROVERS' | 'HEADWATCH_ADMINS'>) {
    this.operators = new Set(config.HEADWATCH_OPERATORS);
    this.approvers = new Set(config.HEADWATCH_APPROVERS);
    this.admins = new Set(config.HEADWATCH_ADMINS);
  }

  /** False when no role list is set at all: every action is refused until one is. */
  configured(): boolean {
    return this.operators.size + this.approvers.size + this.admins.size > 0;
  }

  can(principal: string, capability: Capability): boolean {
    if (this.admins.has(principal)) return true;
    return capability === 'request' ? this.operators.has(principal) : this.approvers.has(principal);
  }

  hasAnyRole(principal: string): boolean {
    return this.admins.has(principal) || this.operators.has(principal) || this.approvers.has(principal);
  }

  allows(principal: string, access: Access): boolean {
    switch (access) {
      case 'read':
        return true;
      case 'operate':
        return this.can(principal, 'request');
      case 'review':
        return this.hasAnyRole(principal);
    }
  }

  /** Refusal text that says what is missing and how to fix it. */
  refusal(principal: string, what: string, access: Access | 'approve'): string {
    if (!this.configured()) {
      return `${what} is disabled: no operators are configured. Set HEADWATCH_OPERATORS, HEADWATCH_APPROVERS or HEADWATCH_ADMINS (comma lists of slack:<user id> / discord:<user id>) and restart headwatch.`;
    }
    const [need, holders] =
      access === 'approve'
        ? ['HEADWATCH_APPROVERS or HEADWATCH_ADMINS', 'approvers and admins']
        : access === 'operate'
          ? ['HEADWATCH_OPERATORS or HEADWATCH_ADMINS', 'operators and admins']
          : ['HEADWATCH_OPERATORS, HEADWATCH_APPROVERS or HEADWATCH_ADMINS', 'operators, approvers and admins'];
    return `You (${principal}) are not allowed to ${what}: your id is not in ${need}. Only ${holders} may do that. ${ROLE_HELP}`;
  }
}
