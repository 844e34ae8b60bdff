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
    expect(m.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'im:write']));
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
});
