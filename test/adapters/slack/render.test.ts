import { describe, expect, it } from 'vitest';
import { renderSlack } from '../../../src/adapters/slack/render.js';
import { EPHEMERAL_TEXT_ONLY, EVERY_BLOCK, MANY_BUTTONS, MANY_FIELDS, OVERLONG_PARTS, TONES, TOO_MANY_BLOCKS } from '../render-cases.js';

/**
 * Golden files for renderSlack (test/adapters/slack/golden/*.json): any change to what Slack receives shows
 * up as a diff to review. After an intended change, rewrite them with `npx vitest run -u test/adapters`.
 * The limits are also asserted directly, so a golden file cannot bless a body Slack would refuse.
 */
type Rendered = ReturnType<typeof renderSlack>;
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Block Kit JSON

async function golden(name: string, r: Rendered): Promise<void> {
  await expect(`${JSON.stringify(r, null, 2)}\n`).toMatchFileSnapshot(`./golden/${name}.json`);
}

/** Every text Slack limits, with its limit: section and context text 3000, header 150, field 2000, button 75. */
function assertWithinLimits(r: Rendered): void {
  expect(r.blocks.length).toBeLessThanOrEqual(50);
  expect(r.text.length).toBeLessThanOrEqual(3000);
  for (const b of r.blocks as Any[]) {
    if (b['type'] === 'header') expect(b['text']['text'].length).toBeLessThanOrEqual(150);
    if (b['type'] === 'section' && b['text']) expect(b['text']['text'].length).toBeLessThanOrEqual(3000);
    if (b['type'] === 'section' && b['fields']) {
      expect(b['fields'].length).toBeLessThanOrEqual(10);
      for (const f of b['fields']) expect(f['text'].length).toBeLessThanOrEqual(2000);
    }
    if (b['type'] === 'context') for (const e of b['elements']) expect(e['text'].length).toBeLessThanOrEqual(3000);
    if (b['type'] === 'actions') {
      expect(b['elements'].length).toBeLessThanOrEqual(25);
      for (const e of b['elements']) expect(e['text']['text'].length).toBeLessThanOrEqual(75);
    }
  }
}

describe('renderSlack golden files', () => {
  it('every block type: header with the tone mark, escaped mrkdwn, fields, code, table, buttons, context', async () => {
    const r = renderSlack(EVERY_BLOCK);
    expect((r.blocks as Any[]).map((b) => b['type'])).toEqual(['header', 'section', 'section', 'section', 'section', 'actions', 'context', 'header', 'context']);
    const all = JSON.stringify(r.blocks);
    expect(all).not.toContain('<@U123>'); // user text cannot mention or link
    expect(all).toContain('&lt;@U123&gt; &amp; &lt;!channel&gt;');
    expect((r.blocks as Any[])[0]!['text']['text']).toBe('🔴 CRITICAL · node-flapping · laptop');
    expect((r.blocks as Any[])[7]!['text']['text']).toBe('A second header'); // the mark only on the first
    assertWithinLimits(r);
    await golden('every-block', r);
  });

  it('each tone marks the fallback text and the first header', async () => {
    const rendered = TONES.map((m) => renderSlack(m));
    expect(rendered.map((r) => r.text)).toEqual(['🔴 critical message', '🟠 warning message', 'ℹ️ info message', '✅ ok message', 'neutral message']);
    await golden('tones', rendered as unknown as Rendered);
  });

  it('a message with no blocks is its fallback text alone', async () => {
    const r = renderSlack(EPHEMERAL_TEXT_ONLY);
    expect(r.blocks).toEqual([]);
    await golden('text-only', r);
  });

  it('50 blocks at most: the 50th says the rest was cut', async () => {
    const r = renderSlack(TOO_MANY_BLOCKS);
    expect(r.blocks).toHaveLength(50);
    expect(JSON.stringify(r.blocks[48])).toContain('block 49');
    expect(r.blocks[49]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: '…truncated' }] });
    assertWithinLimits(r);
    await golden('fifty-blocks', r);
  });

  it('3000-character sections, 150-character headers, 2000-character fields, 75-character buttons, each cut with …', async () => {
    const r = renderSlack(OVERLONG_PARTS);
    const blocks = r.blocks as Any[];
    expect(blocks[1]!['text']['text']).toHaveLength(3000);
    expect(blocks[1]!['text']['text'].endsWith('…')).toBe(true);
    expect(blocks[2]!['text']['text']).toHaveLength(3000); // the code block too
    expect(blocks[0]!['text']['text']).toHaveLength(150);
    expect(blocks[3]!['fields'][0]['text']).toHaveLength(2000);
    expect(blocks[5]!['elements'][0]['text']['text']).toHaveLength(75);
    expect(r.text).toHaveLength(3000);
    assertWithinLimits(r);
    await golden('overlong-parts', r);
  });

  it('fields go 10 to a section, buttons 25 to an actions block', async () => {
    const fields = renderSlack(MANY_FIELDS);
    expect((fields.blocks as Any[]).map((b) => b['fields'].length)).toEqual([10, 10, 10]);
    const buttons = renderSlack(MANY_BUTTONS);
    expect((buttons.blocks as Any[]).map((b) => b['elements'].length)).toEqual([25, 5]);
    assertWithinLimits(fields);
    assertWithinLimits(buttons);
    await golden('many-fields', fields);
    await golden('many-buttons', buttons);
  });
});
