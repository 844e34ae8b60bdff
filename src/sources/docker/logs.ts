import type Docker from 'dockerode';
import { LineSplitter, type SkipReason } from './lines.js';
import { FrameDemuxer, type StreamType } from './frames.js';

/** Nanoseconds since the epoch of a Docker log timestamp (RFC 3339 with up to 9 fraction digits). */
export function parseLogTimestamp(text: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms / 1000) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** The `since` query value for a nanosecond time: `<seconds>.<9 digits>`, which the engine reads exactly. */
export function sinceParam(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

export function nowNs(ms: number): bigint {
  return BigInt(Math.floor(ms)) * 1_000_000n;
}

/**
 * Where a follower is in a container's log. The engine's `since` is inclusive, so a re-attach from the last
 * timestamp returns the messages of that exact nanosecond again; they are skipped by count (the engine
 * returns them in the same order), so nothing is delivered twice and nothing is missed. Within one stream a
 * message may be stamped before one already delivered (the engine stamps stdout and stderr separately, so under
 * load a stderr line can arrive after a later-stamped stdout line): it is new and is delivered. Only what lies
 * below the attach point is old, and the engine's `since` filter never sends that anyway.
 */
export class LogCursor {
  /** Timestamp of the newest message delivered (or the attach time before any message). */
  ns: bigint;
  /** Messages already delivered whose timestamp equals `ns`. */
  private deliveredAtNs: number;
  /** The `since` of the current attach: the boundary whose already-delivered messages are skipped. */
  private floor: bigint;
  /** Messages at `floor` still to skip on the current attach. */
  private skip = 0;

  /** `seenAtStart`: messages at `startNs` already processed (a stored cursor resumed after a restart or takeover). */
  constructor(startNs: bigint, seenAtStart = 0) {
    this.ns = startNs;
    this.floor = startNs;
    this.deliveredAtNs = seenAtStart;
  }

  /** Messages delivered at exactly `ns`: with `ns`, the position to store (src/store/log-cursors.ts). */
  get seenAtNs(): number {
    return this.deliveredAtNs;
  }

  /** Called when a new stream starts at `ns`. */
  resume(): void {
    this.floor = this.ns;
    this.skip = this.deliveredAtNs;
  }

  /** Whether a message with this timestamp is new. */
  accept(ts: bigint): boolean {
    if (ts < this.floor) return false;
    if (ts === this.floor && this.skip > 0) {
      this.skip--;
      return false;
    }
    if (ts > this.ns) {
      this.ns = ts;
      this.deliveredAtNs = 1;
    } else if (ts === this.ns) {
      this.deliveredAtNs++;
    }
    return true;
  }
}

/** Longest timestamp prefix we look for before deciding a message has none. */
const MAX_TS_LEN = 40;

export interface LogFollowerOptions {
  container: Docker.Container;
  /** TTY containers write raw bytes; others are multiplexed. */
  tty: boolean;
  /** Where to start: a nanosecond time (0n = the container's whole log). */
  startNs: bigint;
  /** Messages at `startNs` already processed, skipped on the first attach. */
  seenAtStart?: number;
  maxLineBytes?: number;
  /** `atNs`: the engine's timestamp of the message that completed the line (undefined if it had none). */
  onLine(line: string, stream: StreamType, atNs: bigint | undefined): void;
  onSkipped(reason: SkipReason, stream: StreamType): void;
  /** The stream ended or failed on its own (not after detach()). */
  onEnd(err?: unknown): void;
}

/**
 * Follows one container's log (stdout and stderr, with timestamps) and turns it into complete lines. The
 * cursor and the line splitters outlive individual HTTP streams, so a re-attach continues exactly where the
 * previous stream stopped, even in the middle of a line.
 */
export class LogFollower {
  readonly cursor: LogCursor;
  private readonly splitters: Record<StreamType, LineSplitter>;
  private stream: NodeJS.ReadableStream | undefined;
  private attachSeq = 0;
  private finished = false;
  // TTY parsing state: messages arrive back to back, each "<timestamp> <text>\n".
  private ttyHead: Buffer | undefined;
  private ttyInMessage = false;
  private ttyDeliver = true;
  /** Timestamp of the message being split: lines complete synchronously inside the splitter's push. */
  private messageNs: bigint | undefined;

  constructor(private readonly opts: LogFollowerOptions) {
    this.cursor = new LogCursor(opts.startNs, opts.seenAtStart);
    const make = (stream: StreamType) =>
      new LineSplitter({
        maxLineBytes: opts.maxLineBytes,
        onLine: (line) => opts.onLine(line, stream, this.messageNs),
        onSkipped: (reason) => opts.onSkipped(reason, stream),
      });
    this.splitters = { stdout: make('stdout'), stderr: make('stderr') };
  }

  get attached(): boolean {
    return this.stream !== undefined;
  }

  /** Opens the follow stream from the cursor. Rejects when the engine refuses (the caller decides on retry). */
  async attach(signal?: AbortSignal): Promise<void> {
    if (this.finished || this.stream) return;
    const seq = ++this.attachSeq;
    this.cursor.resume();
    this.ttyHead = undefined;
    this.ttyInMessage = false;
    const opts = {
      follow: true as const,
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(this.cursor.ns > 0n ? { since: sinceParam(this.cursor.ns) as unknown as number } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    };
    const stream = (await this.opts.container.logs(opts)) as unknown as NodeJS.ReadableStream;
    if (seq !== this.attachSeq || this.finished) {
      destroy(stream);
      return;
    }
    this.stream = stream;
    const demux = this.opts.tty ? undefined : new FrameDemuxer((type, payload) => this.onFrame(type, payload));
    let ended = false;
    const end = (err?: unknown) => {
      if (ended) return;
      ended = true;
      if (seq !== this.attachSeq) return; // detached on purpose
      this.stream = undefined;
      this.opts.onEnd(err);
    };
    stream.on('data', (chunk: Buffer) => {
      if (seq !== this.attachSeq) return;
      if (demux) demux.push(chunk);
      else this.onTty(chunk);
    });
    stream.on('end', () => end());
    stream.on('close', () => end());
    stream.on('error', (err: unknown) => end(err));
  }

  /** Closes the current stream; cursor and partial lines are kept for the next attach. */
  detach(): void {
    this.attachSeq++;
    const s = this.stream;
    this.stream = undefined;
    if (s) destroy(s);
  }

  /** Closes for good and flushes an unterminated last line. */
  finish(): void {
    if (this.finished) return;
    this.detach();
    this.finished = true;
    this.splitters.stdout.end();
    this.splitters.stderr.end();
  }

  private onFrame(type: StreamType, payload: Buffer): void {
    const sp = payload.indexOf(32);
    const ts = sp > 0 && sp <= MAX_TS_LEN ? parseLogTimestamp(payload.toString('latin1', 0, sp)) : undefined;
    this.messageNs = ts;
    if (ts === undefined) {
      this.splitters[type].push(payload);
      return;
    }
    if (this.cursor.accept(ts)) this.splitters[type].push(payload.subarray(sp + 1));
  }

  /**
   * TTY output is one raw stream (stdout only). A message longer than the engine's 16 KiB log buffer is stored
   * in parts, each with its own timestamp and no newline; those parts are not told apart here, so such a line
   * keeps the inner timestamps (it is usually over the line limit anyway).
   */
  private onTty(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.ttyInMessage) {
        const sp = chunk.indexOf(32, pos);
        const piece = chunk.subarray(pos, sp === -1 ? chunk.length : sp);
        this.ttyHead = this.ttyHead ? Buffer.concat([this.ttyHead, piece]) : Buffer.from(piece);
        if (sp === -1 && this.ttyHead.length <= MAX_TS_LEN) return;
        const head = this.ttyHead;
        this.ttyHead = undefined;
        this.ttyInMessage = true;
        const ts = sp === -1 ? undefined : parseLogTimestamp(head.toString('latin1'));
        this.messageNs = ts;
        if (ts === undefined) {
          // No timestamp where one belongs: deliver the bytes rather than lose them.
          this.ttyDeliver = true;
          this.splitters.stdout.push(sp === -1 ? head : Buffer.concat([head, Buffer.from(' ')]));
        } else {
          this.ttyDeliver = this.cursor.accept(ts);
        }
        pos = sp === -1 ? chunk.length : sp + 1;
      } else {
        const nl = chunk.indexOf(10, pos);
        const end = nl === -1 ? chunk.length : nl + 1;
        if (this.ttyDeliver) this.splitters.stdout.push(chunk.subarray(pos, end));
        pos = end;
        if (nl !== -1) this.ttyInMessage = false;
      }
    }
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  const s = stream as NodeJS.ReadableStream & { destroy?: () => void };
  s.on('error', () => {}); // an aborted response may still emit one
  try {
    s.destroy?.();
  } catch {
    /* already closed */
  }
}
