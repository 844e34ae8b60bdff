import { describe, expect, it } from 'vitest';
import { imageWith, isMaintained, upgradePath } from '../../src/incidents/releases.js';

describe('Headscale upgrade advice', () => {
  it('steps one minor at a time from an old release to the newest, starting with the next minor', () => {
    expect(upgradePath('0.23.0')).toEqual(['0.24.3', '0.25.1', '0.26.1', '0.27.1', '0.28.0', '0.29.8']);
    expect(upgradePath('v0.28.0')).toEqual(['0.29.8']);
    // Behind on patches of the newest line: the newest patch.
    expect(upgradePath('0.29.2')).toEqual(['0.29.8']);
    expect(upgradePath('0.29.8')).toEqual([]);
    expect(upgradePath('0.30.0-beta.1')).toEqual([]);
    expect(upgradePath('dev')).toBeUndefined();
  });

  it('counts only the newest minor line as maintained', () => {
    expect(isMaintained('0.28.0')).toBe(false);
    expect(isMaintained('v0.29.2')).toBe(true);
    expect(isMaintained('unknown')).toBeUndefined();
  });

  it('writes the new image the way the current one is written', () => {
    expect(imageWith('headscale/headscale:0.23.0', '0.24.3')).toBe('headscale/headscale:0.24.3');
    expect(imageWith('ghcr.io/juanfont/headscale:v0.27.1', '0.28.0')).toBe('ghcr.io/juanfont/headscale:v0.28.0');
    expect(imageWith('registry.local:5000/headscale/headscale@sha256:abcd', '0.29.8')).toBe('registry.local:5000/headscale/headscale:0.29.8');
    expect(imageWith('headscale/headscale', '0.29.8')).toBe('headscale/headscale:0.29.8');
    expect(imageWith('headwatch-test/busybox:1', '0.24.3')).toBeUndefined();
  });
});
