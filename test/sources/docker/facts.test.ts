import { describe, expect, it } from 'vitest';
import { factsFromInspect } from '../../../src/sources/docker/facts.js';

describe('container facts from docker inspect', () => {
  it('keeps what the diagnosis needs and no secret', () => {
    const key = 'hskey-auth-abcdefabcdef-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';
    const f = factsFromInspect({
      Name: '/ts-nas',
      RestartCount: 4,
      Config: {
        Image: 'tailscale/tailscale:v1.84.0',
        Hostname: 'a1b2c3d4e5f6',
        Env: [`TS_AUTHKEY=${key}`, 'TS_HOSTNAME=nas-01', 'TS_STATE_DIR=/var/lib/tailscale', `TS_EXTRA_ARGS=--login-server=http://headscale:8080 --auth-key ${key} --advertise-exit-node`],
        Cmd: null,
      },
      HostConfig: { NetworkMode: 'container:headscale', RestartPolicy: { Name: 'unless-stopped' } },
      State: { StartedAt: '2026-12-01T10:00:00Z' },
    });
    expect(f).toEqual({
      name: 'ts-nas',
      image: 'tailscale/tailscale:v1.84.0',
      hostname: 'a1b2c3d4e5f6',
      tsHostname: 'nas-01',
      networkMode: 'container:headscale',
      authKeySet: true,
      loginServer: 'http://headscale:8080',
      loginServerFrom: 'TS_EXTRA_ARGS',
      stateDir: '/var/lib/tailscale',
      restartCount: 4,
      restartPolicy: 'unless-stopped',
      startedAt: '2026-12-01T10:00:00Z',
    });
    expect(JSON.stringify(f)).not.toContain('0123456789abcdef');
  });

  it('reads --login-server from the command when the container is not containerboot', () => {
    const f = factsFromInspect({ Name: '/ts', Config: { Image: 'x', Cmd: ['tailscale', 'up', '--login-server', 'https://hs.example.com', '--authkey=secret'] }, Args: [] });
    expect(f).toMatchObject({ loginServer: 'https://hs.example.com', loginServerFrom: 'command', authKeySet: false });
    expect(JSON.stringify(f)).not.toContain('secret');
  });
});
