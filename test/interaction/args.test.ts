import { describe, expect, it } from 'vitest';
import { bindOptions, bindTokens, tokenize } from '../../src/interaction/args.js';
import { createKeyCommand } from '../../commands/create-key.js';
import { needsExpireBeforeDelete } from '../../src/actions/nodes.js';
import { keyPrefix } from '../../src/actions/keys.js';

const defs = createKeyCommand.options;

describe('argument parsing', () => {
  it('tokenizes quotes and the em dash Slack clients put in place of --', () => {
    expect(tokenize(`silence add "node-flapping:my laptop" —for 2h --comment='wifi'`)).toEqual({
      ok: true,
      tokens: ['silence', 'add', 'node-flapping:my laptop', '--for', '2h', '--comment=wifi'],
    });
    expect(tokenize('“smart quotes” here')).toEqual({ ok: true, tokens: ['smart quotes', 'here'] });
    expect(tokenize('"open')).toMatchObject({ ok: false });
  });

  it('binds positionals and flags in any order, the same as typed Discord options', () => {
    const slack = bindTokens(['--reusable', 'alice', '--expiration', '2h', '--tags=tag:a,tag:b'], defs);
    const discord = bindOptions({ user: 'alice', reusable: true, expiration: '2h', tags: 'tag:a,tag:b' }, defs);
    expect(slack).toEqual(discord);
    expect(createKeyCommand.schema.parse((slack as { values: object }).values)).toEqual({
      user: 'alice',
      reusable: true,
      ephemeral: false,
      expiration: 7_200_000,
      tags: ['tag:a', 'tag:b'],
    });
  });

  it('refuses repeated flags and values for boolean flags that are not booleans', () => {
    expect(bindTokens(['alice', '--reusable', '--reusable'], defs)).toMatchObject({ ok: false, error: '--reusable is given twice' });
    expect(bindTokens(['alice', '--reusable=maybe'], defs)).toMatchObject({ ok: false });
  });
});

describe('actions helpers', () => {
  it('expires before delete on Headscale ≤ 0.29 and unknown versions only', () => {
    expect(needsExpireBeforeDelete('0.29')).toBe(true);
    expect(needsExpireBeforeDelete('0.22')).toBe(true);
    expect(needsExpireBeforeDelete(undefined)).toBe(true);
    expect(needsExpireBeforeDelete('0.30')).toBe(false);
    expect(needsExpireBeforeDelete('1.0')).toBe(false);
  });

  it('shows only the public prefix of a key', () => {
    expect(keyPrefix(`hskey-auth-abcdefghijkl-${'s'.repeat(64)}`)).toBe('hskey-auth-abcdefghijkl-…');
    const legacy = 'a1b2c3'.repeat(8);
    expect(keyPrefix(legacy)).toBe('a1b2c3…');
  });
});
