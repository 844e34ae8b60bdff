import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuild } from '../scripts/ensure-build.mjs';
import { runtimeArgs } from '../scripts/runtime-command.mjs';
import { FakeSlack } from '../test/fakes/slack/server.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../test/fakes/discord/server.js';

export interface StartupFigures {
  /** Wall-clock time from spawn to the first 200 from /readyz (and, with chat, every platform connected). */
  startToReadyMs: number;
  /** CPU time (user + system) the process had used by then: the same work, less the waiting for a busy machine. */
  cpuToReadyMs: number;
  /** Resident set size after `idleSeconds` of idling. */
  idleRssMb: number;
  runs: number;
}

const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * Starts the compiled runtime as production does (`npm start`'s command: node [flags] dist/src/main.js, a separate process, no TypeScript
 * compiler loaded), times it to a 200 from /readyz, then reads its idle RSS. With `chat`, Slack (Socket Mode) and
 * Discord are configured against the local protocol fakes and "ready" also waits for both to be connected.
 * Several runs; the median of each figure is reported, since one start on a shared machine is noisy.
 */
export async function benchStartup(opts: { idleSeconds?: number; runs?: number; chat?: boolean } = {}): Promise<StartupFigures> {
  ensureBuild();
  const runs = opts.runs ?? 3;
  const figures: Omit<StartupFigures, 'runs'>[] = [];
  for (let i = 0; i < runs; i++) figures.push(await startOnce(opts.idleSeconds ?? 10, opts.chat ?? false));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  return {
    startToReadyMs: median(figures.map((f) => f.startToReadyMs)),
    cpuToReadyMs: median(figures.map((f) => f.cpuToReadyMs)),
    idleRssMb: median(figures.map((f) => f.idleRssMb)),
    runs,
  };
}

async function startOnce(idleSeconds: number, chat: boolean): Promise<Omit<StartupFigures, 'runs'>> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-start-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const fakes = chat ? await startChatFakes() : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HEADWATCH_DB: join(dir, 'hw.db'),
    HEADWATCH_HTTP_PORT: String(port),
    HEADWATCH_HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    ...(fakes?.env ?? {}),
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, runtimeArgs(), { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const readyAt = await waitReady(child, port, chat ? ['slack', 'discord'] : [], t0);
    const cpuToReadyMs = cpuMs(child);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN);
    return { startToReadyMs: Math.round(readyAt - t0), cpuToReadyMs, idleRssMb: Math.round(rssKb / 102.4) / 10 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await fakes?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls /readyz until it answers 200 with every named (optional) check passing too. */
async function waitReady(child: ChildProcess, port: number, platforms: string[], t0: number): Promise<number> {
  while (performance.now() - t0 < 30_000) {
    if (child.exitCode !== null) throw new Error(`headwatch exited with ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.status === 200) {
        const body = (await r.json()) as { checks: { name: string; ok: boolean }[] };
        if (platforms.every((p) => body.checks.some((c) => c.name === p && c.ok))) return performance.now();
      }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('headwatch was not ready within 30 s (is DOCKER_HOST set to a running engine?)');
}

function cpuMs(child: ChildProcess): number {
  // Fields after the command name: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
  const rest = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(rest[11]) + Number(rest[12])) * CLOCK_TICK_MS;
}

async function startChatFakes(): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const botToken = 'xoxb-bench-bot-token';
  const appToken = 'xapp-bench-app-token';
  const discordToken = 'discord-bench-bot-token';
  const slack = new FakeSlack({ botToken, appToken });
  const discord = new FakeDiscord({ token: discordToken });
  await slack.start();
  await discord.start();
  return {
    env: {
      SLACK_BOT_TOKEN: botToken,
      SLACK_APP_TOKEN: appToken,
      SLACK_CHANNEL: 'C0ALERTS',
      SLACK_API_URL: slack.apiUrl,
      DISCORD_TOKEN: discordToken,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_GUILD_ID: GUILD_ID,
      DISCORD_CHANNEL_ID: CHANNEL_ID,
      DISCORD_API_URL: discord.apiUrl,
    },
    stop: async () => {
      await slack.stop();
      await discord.stop();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const chat = process.argv.includes('--chat');
  benchStartup({ chat }).then((r) => console.log(JSON.stringify(r)));
}
