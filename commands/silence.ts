import { z } from 'zod';
import { parseDuration } from '../src/config/schema.js';
import { KIND_NAMES } from '../src/alerts/kinds.js';
import type { Silence, SilenceMatcher } from '../src/store/silences.js';
import { addSilence, removeSilence } from '../src/actions/silences.js';
import { parseSilenceAction } from '../src/dispatch/messages.js';
import { CommandError, defineCommand, type CommandContext, type CommandDeps, type RawValues } from '../src/interaction/types.js';
import { humanDuration, message, utc } from '../src/interaction/format.js';
import type { Message } from '../src/messages/model.js';

const MAX_SILENCE_MS = 30 * 86_400_000;

/**
 * What a silence target means: `kind=…`, `subject=…`, `fingerprint=…` explicitly; otherwise a fingerprint
 * (`node-flapping:laptop`, as `alerts` shows them), an alert kind, or else a subject (node or container name).
 */
export function parseTarget(target: string): { matcher: SilenceMatcher; value: string } {
  const t = target.trim();
  const explicit = /^(fingerprint|kind|subject)=(.+)$/.exec(t);
  if (explicit) return { matcher: explicit[1] as SilenceMatcher, value: explicit[2]!.trim() };
  if ((KIND_NAMES as readonly string[]).includes(t)) return { matcher: 'kind', value: t };
  if (t.includes(':')) return { matcher: 'fingerprint', value: t };
  return { matcher: 'subject', value: t };
}

/**
 * The alert message's "Silence 1h" button (`silence:<fingerprint or #hash>:<duration>`, built by
 * src/dispatch/messages.ts) as the values of `silence add fingerprint=<fingerprint> --for <duration>`.
 */
function decodeSilenceButton(payload: string, deps: CommandDeps): { values: RawValues } | { problem: string } {
  const parsed = parseSilenceAction(`silence:${payload}`);
  const gone = { problem: 'That alert is no longer known; nothing was silenced.' };
  if (!parsed) return gone;
  const fingerprint = parsed.byHash ? deps.silences?.fingerprintByHash?.(parsed.target) : parsed.target;
  if (!fingerprint) return gone;
  return { values: { action: 'add', target: `fingerprint=${fingerprint}`, for: parsed.duration, comment: 'button' } };
}

/** What the clicker of a Silence button is told (privately). */
function buttonAnswer(s: Silence, durationMs: number, ctx: CommandContext): Message {
  const until = new Date(s.expiresAt).toISOString();
  const id = s.id.slice(0, 8);
  return message(`Silenced ${s.value} until ${until}`, 'info', [
    { type: 'text', text: `🔕 Silenced \`${s.value}\` for ${humanDuration(durationMs)} (until ${until}).` },
    { type: 'context', text: `silence ${id} · end it early with ${ctx.command} silence expire ${id}` },
  ]);
}

/**
 * `silence list` · `silence add <target> [--for 2h] [--comment text]` · `silence remove <id>`, and the alert
 * message's Silence button. Delegates to the dispatcher's silences; adding and removing need an operator,
 * listing does not.
 */
export const silenceCommand = defineCommand({
  name: 'silence',
  description: 'List, add or remove alert silences',
  options: [
    { name: 'action', description: 'list, add or remove (expire = remove)', type: 'string', positional: true, choices: ['list', 'add', 'remove', 'expire'] },
    { name: 'target', description: 'add: fingerprint (kind:subject), alert kind or node/container; remove: silence id', type: 'string', positional: true },
    { name: 'for', description: 'How long a new silence lasts, e.g. 30m, 2h, 1d (default 1h, max 30d)', type: 'string' },
    { name: 'comment', description: 'Why (shown with the silence)', type: 'string' },
  ],
  access: (args) => (args.action === 'list' ? 'read' : 'operate'),
  needsApproval: () => false,
  examples: ['silence add node-flapping:laptop --for 2h --comment "wifi work"', 'silence add cpu-sustained', 'silence remove 3f2a'],
  button: { what: 'silence alerts', decode: decodeSilenceButton },
  schema: z
    .object({
      action: z
        .enum(['list', 'add', 'remove', 'expire'])
        .default('list')
        .transform((a) => (a === 'expire' ? 'remove' : a)),
      target: z.string().max(200, { error: 'target is too long (200 characters at most)' }).optional(),
      for: z
        .string()
        .default('1h')
        .transform((v, ctx) => {
          const ms = parseDuration(v);
          if (ms === undefined || ms < 60_000 || ms > MAX_SILENCE_MS) {
            ctx.addIssue({ code: 'custom', message: 'for must be a duration between 1m and 30d, such as 30m, 2h or 1d' });
            return z.NEVER;
          }
          return ms;
        }),
      comment: z.string().max(300, { error: 'comment is too long (300 characters at most)' }).optional(),
    })
    .refine((a) => a.action === 'list' || (a.target !== undefined && a.target.trim() !== ''), {
      error: 'silence add needs an alert fingerprint, kind or subject; silence remove needs a silence id',
      path: ['target'],
    }),
  async run(ctx, args) {
    const silences = ctx.deps.silences;
    if (!silences) throw new CommandError('Silences are not available in this headwatch (no dispatcher is configured).');
    if (args.action === 'list') {
      const all = silences.list();
      if (all.length === 0) return { message: message('No active silences.', 'info', [{ type: 'text', text: 'No active silences.' }]) };
      const rows = all.map((s) => [s.id.slice(0, 8), `${s.matcher}=${s.value}`, utc(s.expiresAt), s.createdBy, s.reason ?? '']);
      return {
        message: message(
          [`${all.length} active silence${all.length === 1 ? "" : "s"}`, ...rows.map((r) => r.join(' | '))].join('\n'),
          'info',
          [
            { type: 'header', text: `${all.length} active silence${all.length === 1 ? '' : 's'}` },
            { type: 'table', columns: ['id', 'matches', 'ends', 'by', 'comment'], rows },
            { type: 'context', text: `Remove one with: ${ctx.command} silence remove <id>` },
          ],
        ),
      };
    }
    if (args.action === 'add') {
      const target = parseTarget(args.target!);
      let s;
      try {
        s = addSilence(
          silences,
          {
            ...target,
            durationMs: args.for,
            createdBy: ctx.actor.principal,
            ...(args.comment ? { reason: args.comment } : {}),
            from: { who: ctx.actor.userName ?? ctx.actor.userId, ...(ctx.origin ? { message: ctx.origin.message } : {}) },
          },
          ctx.deps.logger,
        );
      } catch (err) {
        if (err instanceof RangeError) throw new CommandError(err.message);
        throw err;
      }
      const audit = { silenceId: s.id, matcher: s.matcher, value: s.value, expiresAt: s.expiresAt };
      if (ctx.origin) return { message: buttonAnswer(s, args.for, ctx), audit };
      const t = `Silenced ${s.matcher} ${s.value} for ${humanDuration(args.for)} (until ${utc(s.expiresAt)}); silence id ${s.id.slice(0, 8)}.`;
      return { message: message(t, 'ok', [{ type: 'text', text: t }]), audit };
    }
    const removed = removeSilence(silences, args.target!.trim());
    if (!removed) throw new CommandError(`No active silence has id "${args.target}" (or the prefix matches more than one); see ${ctx.command} silence list.`);
    const t = `Removed silence ${removed.id.slice(0, 8)} (${removed.matcher} ${removed.value}).`;
    return { message: message(t, 'ok', [{ type: 'text', text: t }]), audit: { silenceId: removed.id } };
  },
});
