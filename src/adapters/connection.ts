import type { Platform, PlatformStatus } from './chat.js';

/** A chat platform's connection as the adapters report it: up or down, since when, and the last error seen. */
export class ConnectionState {
  private connected = false;
  private since = Date.now();
  private lastError: string | undefined;

  constructor(private readonly platform: Platform) {}

  set(up: boolean, error?: string): void {
    if (up) this.lastError = undefined;
    else if (error) this.lastError = error;
    if (this.connected === up) return;
    this.connected = up;
    this.since = Date.now();
  }

  /** Records an error without changing the up/down state (e.g. a gateway error before it closes). */
  noteError(message: string): void {
    this.lastError = message;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  status(): PlatformStatus {
    return { platform: this.platform, connected: this.connected, since: this.since, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }
}
