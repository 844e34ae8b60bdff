import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild } from '../../scripts/ensure-build.mjs';
import { runtimeArgs } from '../../scripts/runtime-command.mjs';
import { FakeSlack } from '../fakes/slack/server.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../fakes/discord/server.js';

/**
 * The production runtime as the image and `npm start` run it: `node dist/src/main.js`, compiled JavaScript only.
 * Which packages the process loads is what start-up time and memory are made of, so it is checked here: never a
 * TypeScript compiler, and the chat SDKs and the webhook's HTTP client only when they are configured.
 */
const dir = mkdtempSync(join(tmpdir(), 'hw-compiled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  ensureBuild();
}, 300_000);

interface Run {
  packages: Set<string>;
  ready: { httpStatus: number; checks: { name: string; ok: boolean; detail?: string }[] };
}

let runs = 0;
async function runCompiled(env: Record<string, string>, waitFor: (r: Run['ready']) => boolean): Promise<Run> {
  const n = ++runs;
  const out = join(dir, `modules-${n}.json`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['--import', './test/runtime/record-modules.mjs', ...runtimeArgs()], {
    env: {
      PATH: process.env.PATH ?? '',
      HEADWATCH_TEST_MODULES_OUT: out,
      // No engine here on purpose: what is loaded must not depend on Docker answering.
      DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
      HEADWATCH_DB: join(dir, `hw-${n}.db`),
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_HTTP_PORT: String(port),
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const ready = await poll(child, port, waitFor, () => stderr);
    await stop(child);
    const files = JSON.parse(readFileSync(out, 'utf8')) as string[];
    const packages = new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p): p is string => !!p));
    return { packages, ready };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function poll(child: ChildProcess, port: number, done: (r: Run['ready']) => boolean, stderr: () => string): Promise<Run['ready']> {
  const end = Date.now() + 30_000;
  let last: Run['ready'] | undefined;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`headwatch exited with ${child.exitCode}: ${stderr()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      last = { httpStatus: r.status, checks: ((await r.json()) as Pick<Run['ready'], 'checks'>).checks };
      if (done(last)) return last;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not ready in time; last /readyz: ${JSON.stringify(last)}; stderr: ${stderr()}`);
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  expect(child.exitCode).toBe(0);
}

const COMPILERS = ['typescript', 'tsx', 'esbuild'];

describe('compiled runtime (node dist/src/main.js)', () => {
  it('starts on the defaults with no TypeScript compiler, chat SDK or webhook client loaded', async () => {
    const run = await runCompiled({}, (r) => r.checks.some((c) => c.name === 'docker'));
    // It is really running: serving readiness, explaining the missing engine, with its own dependencies loaded.
    expect(run.ready.httpStatus).toBe(503);
    expect(run.ready.checks.find((c) => c.name === 'docker')?.detail).toContain('no-docker.sock');
    expect([...run.packages]).toEqual(expect.arrayContaining(['dockerode', 'better-sqlite3', 'pino', 'zod', 'prom-client']));
    for (const p of [...COMPILERS, '@slack/bolt', 'discord.js', 'undici']) expect(run.packages, `${p} must not be loaded`).not.toContain(p);
    // Nor what only some installations use: dockerode's BuildKit session (gRPC) and SSH transport, and the YAML
    // parser and RE2 engine of a rules file (HEADWATCH_RULES_FILE).
    for (const p of ['@grpc/grpc-js', 'protobufjs', 'ssh2', 'yaml', 're2js']) expect(run.packages, `${p} must not be loaded`).not.toContain(p);
  });

  it('loads the rules file libraries when a rules file is set', async () => {
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, 'rules:\n  - name: db-locked\n    regex: "database is locked"\n');
    const run = await runCompiled({ HEADWATCH_RULES_FILE: rules }, (r) => r.checks.some((c) => c.name === 'docker'));
    expect([...run.packages]).toEqual(expect.arrayContaining(['yaml', 're2js']));
  });

  it('the image runs exactly `npm start`\'s command (what the bench measures)', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(cmd && JSON.parse(cmd)).toEqual(['node', ...runtimeArgs()]);
  });

  it('loads the Slack and Discord SDKs when both are configured, and connects them', async () => {
    const slack = new FakeSlack({ botToken: 'xoxb-compiled', appToken: 'xapp-compiled' });
    const discord = new FakeDiscord({ token: 'discord-compiled' });
    await slack.start();
    await discord.start();
    try {
      const run = await runCompiled(
        {
          SLACK_BOT_TOKEN: 'xoxb-compiled',
          SLACK_APP_TOKEN: 'xapp-compiled',
          SLACK_CHANNEL: 'C0ALERTS',
          SLACK_API_URL: slack.apiUrl,
          DISCORD_TOKEN: 'discord-compiled',
          DISCORD_APPLICATION_ID: APP_ID,
          DISCORD_GUILD_ID: GUILD_ID,
          DISCORD_CHANNEL_ID: CHANNEL_ID,
          DISCORD_API_URL: discord.apiUrl,
          HEADWATCH_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
        },
        (r) => ['slack', 'discord'].every((p) => r.checks.some((c) => c.name === p && c.ok)),
      );
      expect([...run.packages]).toEqual(expect.arrayContaining(['@slack/bolt', 'discord.js', 'undici']));
      for (const p of COMPILERS) expect(run.packages, `${p} must not be loaded`).not.toContain(p);
    } finally {
      await slack.stop();
      await discord.stop();
    }
  });
});
