import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../commands/silence.js';
import { KIND_NAMES } from '../../src/alerts/kinds.js';

describe('silence targets', () => {
  it('a bare alert kind means every alert of that kind, for every kind there is (new kinds included)', () => {
    for (const kind of KIND_NAMES) expect(parseTarget(kind)).toEqual({ matcher: 'kind', value: kind });
    expect(parseTarget('tls-error')).toEqual({ matcher: 'kind', value: 'tls-error' });
  });

  it('kind:subject is a fingerprint, other words a subject, and explicit forms win', () => {
    expect(parseTarget('node-flapping:laptop')).toEqual({ matcher: 'fingerprint', value: 'node-flapping:laptop' });
    expect(parseTarget('laptop')).toEqual({ matcher: 'subject', value: 'laptop' });
    expect(parseTarget('subject=tls-error')).toEqual({ matcher: 'subject', value: 'tls-error' });
    expect(parseTarget(' kind=cpu-sustained ')).toEqual({ matcher: 'kind', value: 'cpu-sustained' });
  });
});
