import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ButtonClick, InteractionHandler, Invocation, Responder } from '../../src/adapters/chat.js';

export const quietLogger = () => pino({ level: process.env['TEST_LOG'] ?? 'silent' });

export function tmpDb(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hw-chat-'));
  return { path: join(dir, 'headwatch.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Records what the adapter hands over; `onCommand`/`onButton` behaviour can be swapped per test. */
export class RecordingHandler implements InteractionHandler {
  commands: Invocation[] = [];
  clicks: ButtonClick[] = [];
  command: (inv: Invocation, r: Responder) => Promise<void> = async () => {};
  button: (c: ButtonClick) => Promise<void> = async () => {};
  async onCommand(inv: Invocation, r: Responder): Promise<void> {
    this.commands.push(inv);
    await this.command(inv, r);
  }
  async onButton(c: ButtonClick): Promise<void> {
    this.clicks.push(c);
    await this.button(c);
  }
}
