import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, type APIActionRowComponent, type APIEmbed, type APIComponentInMessageActionRow } from 'discord.js';
import type { Message, Tone } from '../../messages/model.js';

/** Turns the neutral Message into a Discord embed (coloured by severity) plus button rows. */

export const TONE_COLOUR: Record<Tone, number> = {
  critical: 0xd92d20,
  warning: 0xf79009,
  info: 0x2e90fa,
  ok: 0x12b76a,
  neutral: 0x98a2b3,
};

/** Discord's limits: 25 fields an embed, 6000 characters over title, description, fields and footer, 5 buttons a row, 5 rows. */
const MAX_FIELDS = 25;
const MAX_EMBED_CHARS = 6000;
const BUTTONS_PER_ROW = 5;
const MAX_ROWS = 5;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function code(text: string): string {
  return '```\n' + text.replace(/```/g, "'''") + '\n```';
}

export interface DiscordBody {
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  allowed_mentions: { parse: [] };
  flags?: number;
}

export function renderDiscord(m: Message): DiscordBody {
  const embed = new EmbedBuilder().setColor(TONE_COLOUR[m.tone]);
  const description: string[] = [];
  const footer: string[] = [];
  let fields = 0;
  const buttons: ButtonBuilder[] = [];
  for (const b of m.blocks) {
    switch (b.type) {
      case 'header':
        if (!embed.data.title) embed.setTitle(cut(b.text, 256));
        else description.push(`**${b.text}**`);
        break;
      case 'text':
        description.push(b.text);
        break;
      case 'code':
        description.push(code(b.text));
        break;
      case 'table': {
        const widths = b.columns.map((c, i) => Math.max(c.length, ...b.rows.map((r) => (r[i] ?? '').length)));
        const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
        description.push(code([line(b.columns), ...b.rows.map(line)].join('\n')));
        break;
      }
      case 'fields':
        for (const f of b.fields) {
          if (fields >= MAX_FIELDS) break;
          embed.addFields({ name: cut(f.label, 256), value: cut(f.value || '—', 1024), inline: true });
          fields++;
        }
        break;
      case 'context':
        footer.push(b.text);
        break;
      case 'buttons':
        for (const btn of b.buttons) {
          buttons.push(
            new ButtonBuilder()
              .setCustomId(btn.actionId.slice(0, 100))
              .setLabel(cut(btn.label, 80))
              .setStyle(btn.style === 'primary' ? ButtonStyle.Primary : btn.style === 'danger' ? ButtonStyle.Danger : ButtonStyle.Secondary),
          );
        }
        break;
    }
  }
  if (description.length > 0) embed.setDescription(cut(description.join('\n\n'), 4096));
  if (footer.length > 0) embed.setFooter({ text: cut(footer.join(' · '), 2048) });
  if (!embed.data.title && !embed.data.description) embed.setDescription(cut(m.fallback, 4096));
  const rows: ActionRowBuilder<ButtonBuilder>[] = [];
  for (let i = 0; i < buttons.length && rows.length < MAX_ROWS; i += BUTTONS_PER_ROW) {
    rows.push(new ActionRowBuilder<ButtonBuilder>().addComponents(buttons.slice(i, i + BUTTONS_PER_ROW)));
  }
  return {
    embeds: [fitEmbed(embed.toJSON())],
    components: rows.map((r) => r.toJSON() as APIActionRowComponent<APIComponentInMessageActionRow>),
    allowed_mentions: { parse: [] },
    ...(m.ephemeral ? { flags: 64 } : {}),
  };
}

function embedChars(e: APIEmbed): number {
  const fields = (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  return (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + fields;
}

/**
 * Discord refuses (HTTP 400) an embed over 6000 characters in all, though each part is within its own limit.
 * The description (tables, evidence) gives way first, then trailing fields, whose count the footer notes.
 */
function fitEmbed(e: APIEmbed): APIEmbed {
  const over = embedChars(e) - MAX_EMBED_CHARS;
  if (over <= 0) return e;
  if (e.description) e.description = cut(e.description, Math.max(1, e.description.length - over));
  if (embedChars(e) <= MAX_EMBED_CHARS) return e;
  let dropped = 0;
  const note = (n: number) => `${n} more field${n === 1 ? '' : 's'} not shown`;
  while (e.fields?.length && embedChars(e) + note(dropped + 1).length + 3 > MAX_EMBED_CHARS) {
    e.fields.pop();
    dropped++;
  }
  if (dropped > 0) e.footer = { ...e.footer, text: e.footer?.text ? `${e.footer.text} · ${note(dropped)}` : note(dropped) };
  if (e.footer && embedChars(e) > MAX_EMBED_CHARS) e.footer.text = cut(e.footer.text, Math.max(1, e.footer.text.length - (embedChars(e) - MAX_EMBED_CHARS)));
  return e;
}
