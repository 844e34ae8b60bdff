import { describe, expect, it } from 'vitest';
import { permits, resolveCommandTarget } from '../../../src/actions/containers.js';
import { resolveContainerName, settingMatches, splitContainerRef } from '../../../src/sources/docker/names.js';
import type { WatchedContainer } from '../../../src/sources/docker/types.js';

const watched = (names: string[]): { watched: () => WatchedContainer[]; hosts: () => string[]; restart: never; exec: never } => ({
  watched: () => names.map((name) => ({ name, host: splitContainerRef(name).host ?? 'local', id: name, image: 'tailscale', role: 'tailscale' as const, running: true })),
  hosts: () => [...new Set(names.map((n) => splitContainerRef(n).host ?? 'local'))],
  restart: undefined as never,
  exec: undefined as never,
});

describe('container names across Docker hosts', () => {
  it('a setting entry means its host only, a plain one any host', () => {
    expect(settingMatches('nas/ts', 'nas', 'ts')).toBe(true);
    expect(settingMatches('nas/ts', 'vps', 'ts')).toBe(false);
    expect(settingMatches('ts', 'vps', 'ts')).toBe(true);
    expect(settingMatches('/ts', 'vps', 'ts2')).toBe(false);
  });

  it('a plain name on one host resolves to it; on two it is ambiguous, listing both; exact names always win', () => {
    const names = ['nas/ts', 'vps/ts', 'vps/hs', 'nas/only'];
    expect(resolveContainerName('only', names)).toEqual({ kind: 'found', name: 'nas/only' });
    expect(resolveContainerName('ts', names)).toEqual({ kind: 'ambiguous', candidates: ['nas/ts', 'vps/ts'] });
    expect(resolveContainerName('vps/ts', names)).toEqual({ kind: 'found', name: 'vps/ts' });
    expect(resolveContainerName('build/ts', names)).toEqual({ kind: 'none' });
    expect(resolveCommandTarget(watched(names) as never, 'ts')).toEqual({ error: expect.stringContaining('(nas/ts, vps/ts); say which with host/container') });
  });

  it('allow-lists: exact, host/container, or plain for any host; with one host a host/container entry names it', () => {
    const several = watched(['nas/ts', 'vps/ts']);
    expect(permits(['ts'], 'nas/ts', several as never)).toBe(true);
    expect(permits(['vps/ts'], 'nas/ts', several as never)).toBe(false);
    expect(permits(['nas/ts'], 'nas/ts', several as never)).toBe(true);
    const one = watched(['ts']);
    expect(permits(['local/ts'], 'ts', one as never)).toBe(true);
    expect(permits(['other/ts'], 'ts', one as never)).toBe(false);
  });
});
