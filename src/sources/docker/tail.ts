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
      ...(opts.untilSec !== undefined ? { until: opts.untilSec } : {}),
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    } as Docker.ContainerLogsOptions & { follow: false })) as unknown;
    raw = Buffer.isBuffer(out) ? out : Buffer.from(String(out));
  } catch {
    return [];
  }
  let text = '';
  if (opts.tty) text = raw.toString('utf8');
  else new FrameDemuxer((_type, payload) => (text += payload.toString('utf8'))).push(raw);
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trimEnd())
    .filter((l) => l.length > 0)
    .slice(-opts.n)
    .map((l) => maskSecrets(l.length > MAX_LINE ? `${l.slice(0, MAX_LINE - 1)}…` : l));
}
