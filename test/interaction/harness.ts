import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ButtonClick, Invocation, MessageRef, Platform, Responder } from '../../src/adapters/chat.js';
import type { Alert } from '../../src/alerts/model.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import type { Message } from '../../src/messages/model.js';
import { CommandRouter, type CommandRouterOptions } from '../../src/interaction/router.js';
import { COMMANDS } from '../../commands/index.js';
import { HeadscaleClient } from '../../src/sources/headscale/client.js';
import type { ContainerControl } from '../../src/actions/containers.js';
import type { WatchedContainer } from '../../src/sources/docker/types.js';
import { Store } from '../../src/store/db.js';
import { storeTarget } from '../support/postgres.js';
import { Silences } from '../../src/store/silences.js';
import { startFakeHeadscale, type FakeHeadscale, type FakeNodeInit, type FakeRelease } from '../fakes/headscale/index.js';

/**
 * Router-level test rig: a real SQLite file, the fake Headscale over real HTTP with the real client, a
 * captured pino log and a Responder that records what the platform would have been asked to show.
 */
export const API_KEY = 'hskey-api-testtesttest-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';

export type Sent =
  | { kind: 'ack'; message: Message }
  | { kind: 'replace'; message: Message }
  | { kind: 'private'; message: Message }
  | { kind: 'post'; message: Message; ref: MessageRef };

let refCounter = 0;

/** Records every answer; `post` returns a fresh MessageRef like a platform would. */
export class RecordingResponder implements Responder {
  readonly sent: Sent[] = [];
  constructor(
    readonly platform: Platform = 'slack',
    readonly channelId = 'C1',
    private readonly failPrivate = false,
  ) {}
  async ack(message: Message): Promise<void> {
    this.sent.push({ kind: 'ack', message });
  }
  async replace(message: Message): Promise<void> {
    this.sent.push({ kind: 'replace', message });
  }
  async private(message: Message): Promise<void> {
    if (this.failPrivate) throw new Error('ephemeral delivery failed');
    this.sent.push({ kind: 'private', message });
  }
  async post(message: Message): Promise<MessageRef> {
    const ref: MessageRef = { platform: this.platform, channelId: this.channelId, messageId: `m${++refCounter}` };
    this.sent.push({ kind: 'post', message, ref });
    return ref;
  }
  of(kind: Sent['kind']): Message[] {
    return this.sent.filter((s) => s.kind === kind).map((s) => s.message);
  }
  last(kind: Sent['kind']): Message | undefined {
    return this.of(kind).at(-1);
  }
  lastRef(): MessageRef | undefined {
    return this.sent.filter((s): s is Extract<Sent, { kind: 'post' }> => s.kind === 'post').at(-1)?.ref;
  }
}

export function allText(m: Message | undefined): string {
  if (!m) return '';
  return [m.fallback, ...m.blocks.map((b) => JSON.stringify(b))].join('\n');
}

export function buttons(m: Message | undefined): { actionId: string; label: string }[] {
  return (m?.blocks ?? []).flatMap((b) => (b.type === 'buttons' ? b.buttons : []));
}

export interface RigOptions {
  env?: Record<string, string>;
  release?: FakeRelease;
  /** What the fake's /version reports (default: the release's own version). */
  hsVersion?: string;
  nodes?: FakeNodeInit[];
  docker?: ContainerControl;
  alerts?: Alert[];
  dbDir?: string;
  router?: Partial<CommandRouterOptions>;
}

export interface Rig {
  router: CommandRouter;
  hs: FakeHeadscale;
  store: Store;
  config: Config;
  dbPath: string;
  dir: string;
  logs: string[];
  clock: { now: number };
  edits: { ref: MessageRef; message: Message }[];
  command(platform: Platform, userId: string, rawText: string, opts?: Partial<Invocation>): Promise<RecordingResponder>;
  click(platform: Platform, userId: string, actionId: string, card?: MessageRef): Promise<RecordingResponder>;
  /** A second router over the same database file, as after a headwatch restart. */
  restart(extra?: Partial<CommandRouterOptions>): CommandRouter;
  close(): Promise<void>;
}

/** Watched containers without a Docker engine, for tests that only read the list (restart uses real Docker). */
export function staticContainers(list: Partial<WatchedContainer>[]): ContainerControl {
  const watched = list.map((c, i) => ({ name: `c${i}`, id: `id${i}`, image: 'img', role: 'tailscale' as const, running: true, ...c }));
  return {
    watched: () => watched,
    restart: async (name) => {
      throw new Error(`no Docker engine in this test (restart ${name})`);
    },
    exec: async () => {
      throw new Error('no Docker engine in this test');
    },
  };
}

export const DEFAULT_NODES: FakeNodeInit[] = [
  { name: 'laptop', user: 'alice' },
  { name: 'server', user: 'bob', online: false, lastSeen: new Date(Date.now() - 3_600_000).toISOString() },
  { name: 'phone', user: 'alice' },
];

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const hs = await startFakeHeadscale({
    release: opts.release ?? '0.29',
    apiKey: API_KEY,
    users: ['alice', 'bob'],
    nodes: opts.nodes ?? DEFAULT_NODES,
    ...(opts.hsVersion ? { version: opts.hsVersion } : {}),
  });
  const dir = opts.dbDir ?? mkdtempSync(join(tmpdir(), 'hw-cmd-'));
  const dbPath = join(dir, 'headwatch.db');
  const config = loadConfig({
    dotenvPath: false,
    env: {
      HEADSCALE_URL: hs.url,
      HEADSCALE_API_KEY: API_KEY,
      HEADWATCH_DB: dbPath,
      HEADWATCH_OPERATORS: 'slack:UOP,discord:111',
      HEADWATCH_APPROVERS: 'slack:UAP,slack:UAP2,discord:222',
      HEADWATCH_ADMINS: 'slack:UADM',
      ...opts.env,
    },
  });
  const logs: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  );
  // Real wall time (to the minute) so keys created 'now' are in the future for the fake Headscale, which checks them against its own clock.
  const clock = { now: Math.floor(Date.now() / 60_000) * 60_000 };
  const edits: { ref: MessageRef; message: Message }[] = [];
  const storeAt = storeTarget(dbPath);
  let store = new Store(storeAt);
  const headscale = new HeadscaleClient({ url: hs.url, apiKey: API_KEY, timeoutMs: 10_000, logger });
  const docker = opts.docker ?? staticContainers([{ name: 'tailscale-a', cpuPercent: 3.5 }, { name: 'headscale', role: 'headscale', cpuPercent: 1.2 }]);
  const make = (extra: Partial<CommandRouterOptions> = {}) =>
    new CommandRouter({
      config,
      commands: COMMANDS,
      store,
      headscale,
      docker,
      alerts: () => opts.alerts ?? [],
      flapCounts: (id) => (id === '1' ? 4 : 0),
      logger,
      clock: () => clock.now,
      silences: new Silences(store, () => clock.now),
      editMessage: async (ref, message) => {
        edits.push({ ref, message });
      },
      ...opts.router,
      ...extra,
    });
  const rig: Rig = {
    router: make(),
    hs,
    store,
    config,
    dbPath,
    dir,
    logs,
    clock,
    edits,
    async command(platform, userId, rawText, extra = {}) {
      const r = new RecordingResponder(platform);
      // Split like the Slack adapter: the first word is the subcommand, the rest is rawText.
      const text = rawText.trim();
      const space = text.search(/\s/);
      const sub = space < 0 ? text : text.slice(0, space);
      const rest = space < 0 ? '' : text.slice(space + 1).trim();
      await rig.router.onCommand({ platform, userId, userName: `user-${userId}`, channelId: 'C1', subcommand: sub, rawText: rest, ...extra }, r);
      return r;
    },
    async click(platform, userId, actionId, card) {
      const r = new RecordingResponder(platform);
      const click: ButtonClick = {
        platform,
        userId,
        userName: `user-${userId}`,
        channelId: 'C1',
        actionId,
        message: card ?? { platform, channelId: 'C1', messageId: 'm0' },
        respond: r,
      };
      await rig.router.onButton(click);
      return r;
    },
    restart(extra) {
      store.close();
      store = new Store(storeAt);
      rig.store = store;
      rig.router = make(extra);
      return rig.router;
    },
    async close() {
      await rig.router.stop();
      store.close();
      await hs.close();
      if (!opts.dbDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** The Approve / Deny action ids of the card a responder posted. */
export function cardButtons(r: RecordingResponder): { approve: string; deny: string; ref: MessageRef } {
  const card = r.last('post');
  const b = buttons(card);
  const approve = b.find((x) => x.label === 'Approve');
  const deny = b.find((x) => x.label === 'Deny');
  if (!approve || !deny) throw new Error(`no approval card in: ${JSON.stringify(r.sent)}`);
  return { approve: approve.actionId, deny: deny.actionId, ref: r.lastRef()! };
}
