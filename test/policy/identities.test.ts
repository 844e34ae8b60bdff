import { describe, expect, it } from 'vitest';
import { Identities, parseIdentities } from '../../src/policy/identities.js';

function ids(spec: string): Identities {
  const r = parseIdentities(spec);
  if ('error' in r) throw new Error(r.error);
  return new Identities(r.map);
}

describe('HEADWATCH_IDENTITIES', () => {
  it('ties accounts of one person so votes count people and the other account is still the requester', () => {
    const i = ids(' alice=slack:U123, discord:456 ; bob=slack:U999 ;');
    expect(i.samePerson('slack:U123', 'discord:456')).toBe(true);
    expect(i.samePerson('slack:U123', 'slack:U999')).toBe(false);
    expect(i.countPeople(['slack:U123', 'discord:456', 'slack:U999'])).toBe(2);
    // Unlisted accounts are each their own person.
    expect(i.countPeople(['discord:777', 'discord:778'])).toBe(2);
    expect(i.personOf('discord:777')).toBe('discord:777');
    expect(i.describe('discord:456')).toBe('alice (discord:456)');
  });

  it('refuses malformed entries, naming what is wrong', () => {
    const bad = (spec: string) => {
      const r = parseIdentities(spec);
      return 'error' in r ? r.error : 'accepted';
    };
    expect(bad('alice')).toMatch(/person=platform:id/);
    expect(bad('alice=U123')).toMatch(/"U123" is not slack:<user id> or discord:<user id>/);
    expect(bad('alice=slack:U1;bob=slack:U1')).toMatch(/slack:U1 is listed for both alice and bob/);
    expect(bad('alice=slack:U1;alice=discord:2')).toMatch(/alice is listed twice/);
    expect(bad('al ice=slack:U1')).toMatch(/not a usable person name/);
    expect(bad('alice=')).toMatch(/alice has no accounts/);
    expect(bad('')).toBe('accepted');
  });
});
