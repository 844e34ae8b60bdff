import type Docker from 'dockerode';
import { maskSecrets } from '../../log/logger.js';
import { FrameDemuxer } from './frames.js';

const MAX_LINE = 300;

/**
 * The last `n` log lines of a container up to `untilSec` (the moment it stopped), for the alert that says it
 * stopped. Secrets are masked (these lines go to chat) and each line is capped; a container whose logs cannot
 * be read gives no lines rather than an error: the alert is worth more than its evidence.
 */
export async function lastLogLines(container: Docker.Container, opts: { tty: boolean; n: number; untilSec?: number; signal?: AbortSignal }): Promise<string[]> {
  let raw: Buffer;
  try {
    const out = (await container.logs({
      stdout: true,
      stderr: true,
      follow: false,
      tail: opts.n,
      // Stdout and stderr are copied by separate goroutines in the engine, so a tail can come back out of order
      // (seen here: a stderr line before the stdout line printed first). Timestamps restore the order it happened.
      timestamps: true,
      ...(opts.untilSec !== undefined ? { until: opts.untilSec } : {}),
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    } as Docker.ContainerLogsOptions & { follow: false })) as unknown;
    raw = Buffer.isBuffer(out) ? out : Buffer.from(String(out));
  } catch {
    return [];
  }
  const chunks: string[] = [];
  if (opts.tty) chunks.push(raw.toString('utf8'));
  else new FrameDemuxer((_type, payload) => chunks.push(payload.toString('utf8'))).push(raw);
  return chunks
    .flatMap((c) => c.split(/\r?\n/))
    .map(splitTimestamp)
    .filter((l) => l.text.length > 0)
    .map((l, i) => ({ ...l, i }))
    .sort((a, b) => (a.at === b.at ? a.i - b.i : a.at < b.at ? -1 : 1))
    .slice(-opts.n)
    .map(({ text }) => maskSecrets(text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text));
}

/**
 * Splits Docker's RFC 3339 (nano) prefix off a log line. The engine drops trailing zeros of the fraction, so the
 * fraction is padded to 9 digits to make the key sort as text; a line without a prefix keeps its place (key '').
 */
function splitTimestamp(line: string): { at: string; text: string } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) (.*)$/.exec(line);
  const clean = (t: string) => t.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trimEnd();
  if (!m) return { at: '', text: clean(line) };
  return { at: `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}`, text: clean(m[4]!) };
}
