/**
 * Runs `task` now, then again `delayMs()` after each run has finished (never overlapping), until stopped.
 * Owners await their own run in progress on stop; this only stops scheduling.
 */
export class Repeater {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly task: () => Promise<unknown>,
    private readonly delayMs: () => number,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      void this.task()
        .catch(() => undefined)
        .finally(() => {
          if (!this.running) return;
          this.timer = setTimeout(loop, this.delayMs());
          this.timer.unref?.();
        });
    };
    loop();
  }

  get active(): boolean {
    return this.running;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
