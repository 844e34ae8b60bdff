/**
 * HEADWATCH_IDENTITIES: ties one person's chat accounts together, e.g.
 * `alice=slack:U0123ABCD,discord:112233445566778899;bob=slack:U0456EFGH`. With it, n-of-m approvals count
 * people, not accounts, and a requester cannot approve their own request from their other account.
 * Roles stay per account (HEADWATCH_OPERATORS / APPROVERS / ADMINS name each account that may act): tying
 * accounts never grants a permission, it only takes the self-approval and double-vote loopholes away.
 */
export interface IdentityMap {
  /** Person name → their principals (`<platform>:<userId>`). */
  people: Map<string, string[]>;
}

const PRINCIPAL = /^(slack|discord):[A-Za-z0-9_-]+$/;
const PERSON = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

/** Parses the setting; returns problems in operator words (the config loader names the variable). */
export function parseIdentities(spec: string): { map: IdentityMap } | { error: string } {
  const people = new Map<string, string[]>();
  const owner = new Map<string, string>();
  for (const raw of spec.split(';')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) return { error: `"${entry}" is not person=platform:id,platform:id (e.g. alice=slack:U0123ABCD,discord:112233445566778899)` };
    const person = entry.slice(0, eq).trim();
    if (!PERSON.test(person)) return { error: `"${person}" is not a usable person name (letters, digits, . _ - @)` };
    if (people.has(person)) return { error: `${person} is listed twice; put all of their accounts in one entry` };
    const accounts = entry
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (accounts.length === 0) return { error: `${person} has no accounts` };
    for (const a of accounts) {
      if (!PRINCIPAL.test(a)) return { error: `${person}: "${a}" is not slack:<user id> or discord:<user id>` };
      const other = owner.get(a);
      if (other !== undefined) return { error: `${a} is listed for both ${other} and ${person}; an account belongs to one person` };
      owner.set(a, person);
    }
    people.set(person, accounts);
  }
  return { map: { people } };
}

export class Identities {
  private readonly owner = new Map<string, string>();

  constructor(map: IdentityMap = { people: new Map() }) {
    for (const [person, accounts] of map.people) for (const a of accounts) this.owner.set(a, person);
  }

  /** The person behind an account: their name when listed, else the account itself (one account, one person). */
  personOf(principal: string): string {
    return this.owner.get(principal) ?? principal;
  }

  /** Every account of the person behind `principal` (just `principal` when unlisted). */
  accountsOf(principal: string): string[] {
    const person = this.owner.get(principal);
    if (person === undefined) return [principal];
    return [...this.owner].filter(([, p]) => p === person).map(([a]) => a);
  }

  samePerson(a: string, b: string): boolean {
    return this.personOf(a) === this.personOf(b);
  }

  /** Distinct people among these accounts (for n-of-m). */
  countPeople(principals: readonly string[]): number {
    return new Set(principals.map((p) => this.personOf(p))).size;
  }

  /** Display form: `alice (discord:456)` for a listed account, the account alone otherwise. */
  describe(principal: string): string {
    const person = this.owner.get(principal);
    return person ? `${person} (${principal})` : principal;
  }
}
