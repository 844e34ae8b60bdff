import type Docker from 'dockerode';

/** One entry of the engine's `/events` stream (both the old and the current field names). */
export interface DockerEvent {
  status?: string;
  id?: string;
  from?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

const WATCHED_EVENTS = ['start', 'die', 'oom', 'stop', 'destroy', 'restart', 'rename'];
/** A line this long without a newline is never an event: do not grow without bound. */
const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * The engine's container events (start, die, oom, stop, destroy, restart, rename) as one newline-delimited JSON
 * stream. Its end is how a lost engine is noticed.
 */
export class EventStream {
  private stream: NodeJS.ReadableStream | undefined;

  /**
   * Opens the stream with the events since `sinceMs` (the moment of asking; earlier only in tests). `stillWanted`
   * is asked once it is open (the connection may have been replaced meanwhile); `onLost` is called when it ends or
   * fails.
   */
  async open(
    docker: Docker,
    signal: AbortSignal,
    sinceMs: number,
    stillWanted: () => boolean,
    onEvent: (ev: DockerEvent) => void,
    onLost: (err?: unknown) => void,
  ): Promise<void> {
    // The engine sends the response headers before it subscribes (moby's getEvents flushes, then calls
    // SubscribeToEvents), so an event published in between would be lost. `since` = the moment of asking makes it
    // replay those from its buffer; live events are never filtered by `since`, so a skewed clock loses nothing more.
    const stream = (await docker.getEvents({
      // Unix seconds; the engine reads the fraction too ("1700000000.123").
      since: sinceMs / 1000,
      filters: { type: ['container'], event: WATCHED_EVENTS },
      abortSignal: signal,
    } as Parameters<Docker['getEvents']>[0])) as NodeJS.ReadableStream;
    if (!stillWanted()) {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      return;
    }
    this.stream = stream;
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let ev: DockerEvent;
        try {
          ev = JSON.parse(line) as DockerEvent;
        } catch {
          continue;
        }
        onEvent(ev);
      }
      if (buf.length > MAX_PENDING_BYTES) buf = '';
    });
    stream.on('error', (err: unknown) => onLost(err));
    stream.on('end', () => onLost());
    stream.on('close', () => onLost());
  }

  close(): void {
    const s = this.stream as (NodeJS.ReadableStream & { destroy(): void }) | undefined;
    this.stream = undefined;
    if (!s) return;
    s.on('error', () => {});
    s.destroy();
  }
}

