/**
 * Docker's multiplexed stream format (logs and exec of containers without a TTY): each write is one frame,
 * an 8-byte header [stream type, 0, 0, 0, payload length uint32 BE] followed by the payload.
 *
 * Hand-rolled rather than dockerode's `modem.demuxStream` because the log follower needs frame boundaries:
 * with `timestamps=true` every frame is exactly one log message that starts with its own timestamp, and the
 * demuxStream pass-through loses that.
 */
export type StreamType = 'stdout' | 'stderr';

export class FrameDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  /** Set once a header is not a valid frame header: the rest is passed through as stdout. */
  private raw = false;

  constructor(private readonly onFrame: (stream: StreamType, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.raw) {
      this.onFrame('stdout', chunk);
      return;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const type = this.buf[0];
      if ((type !== 0 && type !== 1 && type !== 2) || this.buf[1] !== 0 || this.buf[2] !== 0 || this.buf[3] !== 0) {
        // Not multiplexed after all (a TTY container seen as non-TTY): hand the bytes on unchanged.
        this.raw = true;
        const rest = this.buf;
        this.buf = Buffer.alloc(0);
        this.onFrame('stdout', rest);
        return;
      }
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) return;
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.onFrame(type === 2 ? 'stderr' : 'stdout', payload);
    }
    // Do not pin a large chunk for a few leftover header bytes.
    if (this.buf.length > 0 && this.buf.byteOffset > 0) this.buf = Buffer.from(this.buf);
  }
}
