import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { discordInviteUrl, DISCORD_PERMISSIONS, DISCORD_SCOPES } from '../../src/adapters/discord/register.js';
import { PREVIEW_END, PREVIEW_START, previewMarkdown, previewMessages, withPreview } from '../../src/docs/preview.js';

/** The operator docs show what the platforms receive and how to invite the bot; both come from the code. */
const readme = readFileSync('README.md', 'utf8');

describe('README message examples', () => {
  it('are exactly what `npm run preview` prints from the Slack and Discord renderers', () => {
    const a = readme.indexOf(PREVIEW_START);
    const b = readme.indexOf(PREVIEW_END);
    expect(a, 'README.md has the message-preview markers').toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    // When this fails, a renderer or message builder changed: run `npm run preview -- --write` and commit README.md.
    expect(readme.slice(a + PREVIEW_START.length, b).trim(), 'README.md message examples are stale: run `npm run preview -- --write`').toBe(previewMarkdown().trim());
    expect(withPreview(readme)).toBe(readme);
  });

  it('cover every message type once, each as Block Kit and as a Discord embed', () => {
    const titles = previewMessages().map((m) => m.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const t of ['Alert (firing)', 'Alert (resolved)', 'Thread note', 'Storm digest', 'Incident', 'Approval card (waiting)', 'Private reply']) expect(titles).toContain(t);
    const md = previewMarkdown();
    expect(md.match(/"blocks": \[/g)).toHaveLength(titles.length);
    expect(md.match(/"embeds": \[/g)).toHaveLength(titles.length);
    // Buttons the platforms get carry the ids the router decodes.
    expect(md).toContain('"action_id": "silence:node-flapping:nas-01:1h"');
    expect(md).toContain('"custom_id": "hw:approve:12:pR3v1ewN0nce"');
    // The private reply is private on both platforms.
    const reply = previewMessages().find((m) => m.title === 'Private reply')!.message;
    expect(reply.ephemeral).toBe(true);
  });
});

describe('Discord invite URL', () => {
  it('asks for the scopes and permissions headwatch uses, as the README shows it', () => {
    const url = new URL(discordInviteUrl('123456789012345678'));
    expect(url.searchParams.get('client_id')).toBe('123456789012345678');
    expect(url.searchParams.get('scope')).toBe('bot applications.commands');
    const bits = BigInt(url.searchParams.get('permissions')!);
    // Never Administrator (1 << 3) or Manage Messages / Channels / Roles / Guild.
    for (const forbidden of [3n, 4n, 5n, 13n, 28n]) expect(bits & (1n << forbidden), `bit ${forbidden}`).toBe(0n);
    expect(Object.keys(DISCORD_PERMISSIONS)).toEqual(['View Channels', 'Send Messages', 'Embed Links', 'Attach Files', 'Read Message History', 'Create Public Threads', 'Send Messages in Threads']);
    expect(DISCORD_SCOPES).toEqual(['bot', 'applications.commands']);
    const shown = discordInviteUrl('<DISCORD_APPLICATION_ID>').replace('%3CDISCORD_APPLICATION_ID%3E', '<DISCORD_APPLICATION_ID>');
    expect(readme).toContain(shown);
    const sentence = readme.slice(readme.indexOf(`permissions (${bits})`), readme.indexOf('Nothing else: no Administrator')).replace(/\s+/g, ' ');
    for (const name of Object.keys(DISCORD_PERMISSIONS)) expect(sentence, name).toContain(name);
    expect(discordInviteUrl('1', '2')).toContain('&guild_id=2');
  });
});
