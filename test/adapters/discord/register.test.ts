import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../commands/index.js';
import { defineCommand } from '../../../src/interaction/types.js';
import { loadConfig } from '../../../src/config/load.js';
import { buildDiscordCommands, registerDiscordCommands, type DiscordOption } from '../../../src/adapters/discord/register.js';
import { z } from 'zod';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function fakeDiscord(status = 200): Promise<{ url: string; calls: { method: string; url: string; auth?: string; body: unknown }[] }> {
  const calls: { method: string; url: string; auth?: string; body: unknown }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as unknown) : undefined;
      calls.push({ method: req.method!, url: req.url!, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), body });
      res.setHeader('content-type', 'application/json');
      if (status !== 200) {
        res.statusCode = status;
        res.end(JSON.stringify({ message: '401: Unauthorized', code: 0 }));
        return;
      }
      res.end(JSON.stringify((body as { name: string }[]).map((c, i) => ({ id: String(1000 + i), application_id: '42', version: '1', ...c }))));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, calls };
}

describe('Discord registration from the command modules', () => {
  it('one command with a subcommand per module, options typed, required first', () => {
    const [cmd] = buildDiscordCommands({ HEADWATCH_COMMAND: 'headscale' });
    expect(cmd!.name).toBe('headscale');
    expect(cmd!.options.map((o) => o.name)).toEqual(COMMANDS.map((c) => c.name));
    const key = cmd!.options.find((o) => o.name === 'create-key')!;
    expect(key.options!.map((o: DiscordOption) => [o.name, o.type, o.required ?? false])).toEqual([
      ['user', 3, true],
      ['reusable', 5, false],
      ['ephemeral', 5, false],
      ['expiration', 3, false],
      ['tags', 3, false],
    ]);
    const silence = cmd!.options.find((o) => o.name === 'silence')!;
    expect(silence.options![0]!.choices!.map((c) => c.value)).toEqual(['list', 'add', 'remove', 'expire']);
  });

  it('refuses modules that break Discord rules, naming them', () => {
    const bad = defineCommand({ name: 'Bad Name', description: '', options: [], access: 'read', needsApproval: () => false, schema: z.object({}), run: async () => ({ message: { fallback: '', tone: 'info', blocks: [] } }) });
    expect(() => buildDiscordCommands({ HEADWATCH_COMMAND: 'headscale' }, [bad])).toThrow(/"Bad Name" is not a valid Discord name[\s\S]*description must be 1–100/);
  });

  it('PUTs the definitions to the guild with the bot token', async () => {
    const d = await fakeDiscord();
    const config = loadConfig({
      dotenvPath: false,
      env: { DISCORD_TOKEN: 'bot-token', DISCORD_APPLICATION_ID: '42', DISCORD_GUILD_ID: '7', DISCORD_CHANNEL_ID: '8', DISCORD_API_URL: d.url, HEADWATCH_COMMAND: 'hs' },
    });
    const r = await registerDiscordCommands(config);
    expect(r.registered).toEqual([{ id: '1000', name: 'hs' }]);
    expect(d.calls).toHaveLength(1);
    expect(d.calls[0]).toMatchObject({ method: 'PUT', url: '/api/v10/applications/42/guilds/7/commands', auth: 'Bot bot-token' });
    expect(d.calls[0]!.body).toEqual(buildDiscordCommands(config));
  });

  it('a refused token gives an actionable error', async () => {
    const d = await fakeDiscord(401);
    const config = loadConfig({ dotenvPath: false, env: { DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '42', DISCORD_GUILD_ID: '7', DISCORD_CHANNEL_ID: '8', DISCORD_API_URL: d.url } });
    await expect(registerDiscordCommands(config)).rejects.toThrow(/HTTP 401 .*DISCORD_TOKEN was refused/);
  });
});
