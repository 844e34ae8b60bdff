import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../commands/index.js';
import { buildSlackManifest } from '../../../src/adapters/slack/manifest.js';

describe('Slack manifest from the command modules', () => {
  it('Socket Mode by default: the configured command, usage of every subcommand, the scopes needed', () => {
    const m = buildSlackManifest({ HEADWATCH_COMMAND: 'hs', SLACK_APP_TOKEN: undefined }) as {
      features: { slash_commands: { command: string; usage_hint: string; url?: string }[] };
      oauth_config: { scopes: { bot: string[] } };
      settings: { socket_mode_enabled: boolean; interactivity: { is_enabled: boolean; request_url?: string } };
    };
    const cmd = m.features.slash_commands[0]!;
    expect(cmd.command).toBe('/hs');
    for (const c of COMMANDS) expect(cmd.usage_hint).toContain(c.name);
    expect(cmd.url).toBeUndefined();
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.settings.interactivity.is_enabled).toBe(true);
    expect(m.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'im:write', 'files:write']));
  });

  it('HTTP mode with --url points the command and buttons at /slack/events', () => {
    const m = buildSlackManifest({ HEADWATCH_COMMAND: 'headscale', SLACK_APP_TOKEN: undefined }, { url: 'https://hw.example.com/' }) as {
      features: { slash_commands: { url?: string }[] };
      settings: { socket_mode_enabled: boolean; interactivity: { request_url?: string } };
    };
    expect(m.features.slash_commands[0]!.url).toBe('https://hw.example.com/slack/events');
    expect(m.settings.interactivity.request_url).toBe('https://hw.example.com/slack/events');
    expect(m.settings.socket_mode_enabled).toBe(false);
  });
  it.each(['https://hw.example.com', 'https://hw.example.com/', 'https://hw.example.com/slack/events', 'https://hw.example.com/slack/events/'])(
    '--url %s (base or events URL, as the README says) gives https://hw.example.com/slack/events',
    (url) => {
      const m = buildSlackManifest({ HEADWATCH_COMMAND: 'headscale', SLACK_APP_TOKEN: undefined }, { url }) as {
        features: { slash_commands: { url?: string }[] };
        settings: { interactivity: { request_url?: string } };
      };
      expect(m.features.slash_commands[0]!.url).toBe('https://hw.example.com/slack/events');
      expect(m.settings.interactivity.request_url).toBe('https://hw.example.com/slack/events');
    },
  );

  it.concurrent('the real script: --help prints usage (exit 0); a bad argument prints usage (exit 2); --url with the events URL is not doubled', { timeout: 160_000 }, async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((done) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/adapters/slack/manifest.ts', ...args], {
          cwd: new URL('../../../', import.meta.url),
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => done({ code, out, err }));
      });
    const [help, bad, events] = await Promise.all([run(['--help']), run(['--ur', 'x']), run(['--url', 'https://host.example/slack/events'])]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: npm run slack:manifest/);
    expect(help.out).toContain('--url <url>');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown argument "--ur"[\s\S]*Usage:/);
    expect(events.code).toBe(0);
    const manifest = JSON.parse(events.out) as { settings: { interactivity: { request_url: string } } };
    expect(manifest.settings.interactivity.request_url).toBe('https://host.example/slack/events');
    expect(events.out).not.toContain('/slack/events/slack/events');
  });
});
