import type { APIEmbed } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { renderDiscord, TONE_COLOUR, type DiscordBody } from '../../../src/adapters/discord/render.js';
import { EPHEMERAL_TEXT_ONLY, EVERY_BLOCK, MANY_BUTTONS, MANY_FIELDS, OVER_EMBED_TOTAL, OVERLONG_PARTS, TONES } from '../render-cases.js';

/**
 * Golden files for renderDiscord (test/adapters/discord/golden/*.json): any change to what Discord receives
 * shows up as a diff to review. After an intended change, rewrite them with `npx vitest run -u test/adapters`.
 * The limits are also asserted directly, so a golden file cannot bless a body Discord would refuse.
 */
async function golden(name: string, body: unknown): Promise<void> {
  await expect(`${JSON.stringify(body, null, 2)}\n`).toMatchFileSnapshot(`./golden/${name}.json`);
}

function embedChars(e: APIEmbed): number {
  return (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
}

/** Discord's limits: title 256, description 4096, 25 fields (name 256, value 1024), footer 2048, 6000 in all; 5 buttons a row, 5 rows, custom_id 100, label 80. */
function assertWithinLimits(body: DiscordBody): void {
  for (const e of body.embeds) {
    expect(e.title?.length ?? 0).toBeLessThanOrEqual(256);
    expect(e.description?.length ?? 0).toBeLessThanOrEqual(4096);
    expect(e.fields?.length ?? 0).toBeLessThanOrEqual(25);
    for (const f of e.fields ?? []) {
      expect(f.name.length).toBeLessThanOrEqual(256);
      expect(f.value.length).toBeLessThanOrEqual(1024);
      expect(f.value.length).toBeGreaterThan(0);
    }
    expect(e.footer?.text.length ?? 0).toBeLessThanOrEqual(2048);
    expect(embedChars(e)).toBeLessThanOrEqual(6000);
  }
  expect(body.components.length).toBeLessThanOrEqual(5);
  for (const row of body.components) {
    expect(row.components.length).toBeLessThanOrEqual(5);
    for (const c of row.components as { custom_id: string; label: string }[]) {
      expect(c.custom_id.length).toBeLessThanOrEqual(100);
      expect(c.label.length).toBeLessThanOrEqual(80);
    }
  }
}

describe('renderDiscord golden files', () => {
  it('every block type: title, description of text/code/table, inline fields, buttons in a row, footer of contexts', async () => {
    const body = renderDiscord(EVERY_BLOCK);
    const [e] = body.embeds;
    expect(e!.title).toBe('CRITICAL · node-flapping · laptop');
    expect(e!.color).toBe(TONE_COLOUR.critical);
    expect(e!.description).toContain('**A second header**');
    expect(e!.description).toContain("line ''' two"); // a code block cannot be closed from inside
    expect(e!.fields!.map((f) => f.value)).toEqual(['critical', 'laptop', '—']);
    expect(e!.footer!.text).toBe('fingerprint node-flapping:laptop · since 2026-11-26T09:50:00Z · second context line');
    expect(body.components[0]!.components.map((c) => (c as { style: number }).style)).toEqual([2, 1, 4]);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    assertWithinLimits(body);
    await golden('every-block', body);
  });

  it('each tone has its colour; a message with no blocks is its fallback; ephemeral sets flag 64', async () => {
    const tones = TONES.map((m) => renderDiscord(m));
    expect(tones.map((b) => b.embeds[0]!.color)).toEqual([TONE_COLOUR.critical, TONE_COLOUR.warning, TONE_COLOUR.info, TONE_COLOUR.ok, TONE_COLOUR.neutral]);
    const bare = renderDiscord(EPHEMERAL_TEXT_ONLY);
    expect(bare.embeds[0]!.description).toBe('only the fallback');
    expect(bare.flags).toBe(64);
    await golden('tones', tones);
    await golden('text-only', bare);
  });

  it('25 fields at most', async () => {
    const body = renderDiscord(MANY_FIELDS);
    expect(body.embeds[0]!.fields).toHaveLength(25);
    expect(body.embeds[0]!.fields!.at(-1)!.name).toBe('field 25');
    assertWithinLimits(body);
    await golden('many-fields', body);
  });

  it('6000 characters an embed in all: the description gives way first, then trailing fields, which the footer counts', async () => {
    const body = renderDiscord(OVER_EMBED_TOTAL);
    const [e] = body.embeds;
    expect(embedChars(e!)).toBeLessThanOrEqual(6000);
    expect(e!.title).toHaveLength(200);
    expect(e!.description!.endsWith('…')).toBe(true);
    expect(e!.footer!.text).toMatch(/^footer text · \d+ more fields not shown$/);
    const dropped = Number(/(\d+) more/.exec(e!.footer!.text)![1]);
    expect(e!.fields!.length + dropped).toBe(10);
    assertWithinLimits(body);
    await golden('embed-total', body);
  });

  it('a description alone over budget is shortened and nothing else is lost', async () => {
    const body = renderDiscord({ ...OVER_EMBED_TOTAL, blocks: [OVER_EMBED_TOTAL.blocks[0]!, { type: 'text', text: 'd'.repeat(4000) }, { type: 'fields', fields: [{ label: 'a', value: 'v'.repeat(1000) }, { label: 'b', value: 'w'.repeat(1000) }] }] });
    const [e] = body.embeds;
    expect(embedChars(e!)).toBe(6000);
    expect(e!.fields).toHaveLength(2);
    expect(e!.footer).toBeUndefined();
    await golden('embed-total-description', body);
  });

  it('5 buttons a row and 5 rows at most; overlong title, description, fields, footer, ids and labels are cut', async () => {
    const buttons = renderDiscord(MANY_BUTTONS);
    expect(buttons.components.map((r) => r.components.length)).toEqual([5, 5, 5, 5, 5]);
    const long = renderDiscord(OVERLONG_PARTS);
    const [e] = long.embeds;
    expect(e!.title).toHaveLength(256);
    expect(e!.fields![0]!.name).toHaveLength(256);
    expect(e!.fields![0]!.value).toHaveLength(1024);
    expect((long.components[0]!.components[0] as { custom_id: string }).custom_id).toHaveLength(100);
    expect((long.components[0]!.components[0] as { label: string }).label).toHaveLength(80);
    assertWithinLimits(buttons);
    assertWithinLimits(long);
    await golden('many-buttons', buttons);
    await golden('overlong-parts', long);
  });
});
