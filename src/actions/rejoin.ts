import type { Config } from '../config/schema.js';
import { maskSecrets, type Logger } from '../log/logger.js';
import type { HeadscaleApi, HsPreAuthKey } from '../sources/headscale/types.js';
import type { ContainerControl, ExecResult } from './containers.js';
import { nameOnHost, splitContainerRef } from '../sources/docker/names.js';
import { createKey, expireKey, keyPrefix } from './keys.js';

/** A fresh key only has to live until `tailscale up` has used it. */
export const REJOIN_KEY_TTL_MS = 10 * 60_000;
/** Passed to `tailscale up --timeout` so it gives up instead of waiting forever (tailscale.md §5.1). */
export const REJOIN_UP_TIMEOUT_S = 60;

/**
 * Containers `rejoin` may touch: HEADWATCH_RESTARTABLE when set (an explicit allow-list, as for `restart`),
 * otherwise the watched Tailscale containers. The watched Headscale container is never a target: it has no
 * `tailscale` to re-register.
 */
export function rejoinable(config: Pick<Config, 'HEADWATCH_RESTARTABLE'>, docker: ContainerControl): string[] {
  const watched = docker.watched();
  if (config.HEADWATCH_RESTARTABLE && config.HEADWATCH_RESTARTABLE.length > 0) {
    // A plain entry that is the Headscale container's name on some host means that one too: never a target.
    const server = new Set(watched.filter((c) => c.role === 'headscale').flatMap((c) => [c.name, nameOnHost(c)]));
    return config.HEADWATCH_RESTARTABLE.filter((n) => !server.has(n));
  }
  return watched.filter((c) => c.role === 'tailscale').map((c) => c.name);
}

export type OwnerLookup =
  | { kind: 'found'; user: string; node: string }
  | { kind: 'none'; names: string[] }
  | { kind: 'ambiguous'; names: string[]; users: string[] };

/**
 * The Headscale user owning the node this container registered as. The node is found by the container's
 * name and its hostname (`/etc/hostname`, read by argv exec; best effort): Tailscale registers under
 * TS_HOSTNAME, which is usually one of the two. Only an unambiguous single owner counts.
 */
export async function findOwner(headscale: HeadscaleApi, docker: ContainerControl, container: string): Promise<OwnerLookup> {
  // The node is named like the container on its engine, not like headwatch's `host/container`.
  const names = new Set([splitContainerRef(container).container.toLowerCase()]);
  try {
    const r = await docker.exec(container, ['cat', '/etc/hostname'], 5000);
    const host = r.stdout.trim().toLowerCase();
    if (r.exitCode === 0 && /^[a-z0-9][a-z0-9._-]{0,62}$/.test(host)) names.add(host);
  } catch {
    /* not running or no cat: the container name alone may still match */
  }
  const nodes = await headscale.listNodes();
  const matches = nodes.filter((n) => names.has(n.name.toLowerCase()) || names.has(n.givenName.toLowerCase()));
  const users = [...new Set(matches.flatMap((n) => (n.user ? [n.user.name] : [])))];
  if (users.length === 1) return { kind: 'found', user: users[0]!, node: matches.find((n) => n.user?.name === users[0])!.name };
  if (users.length > 1) return { kind: 'ambiguous', names: [...names], users };
  return { kind: 'none', names: [...names] };
}

export interface RejoinInput {
  container: string;
  user: string;
  /** Given by the operator; otherwise the container's own --login-server, else `defaultLoginServer`. */
  loginServer?: string;
  defaultLoginServer: string;
}

/**
 * The preferences containerboot (the official image's entrypoint) passed to `tailscale up` (tailscale.md §4.1):
 * `tailscale up` with flags fails unless every non-default preference is restated, so a re-registration must
 * repeat them. Read from the container's environment; undefined when it has no TS_ variables (not containerboot).
 */
export function containerbootFlags(envOutput: string): { flags: string[]; loginServer?: string } | undefined {
  const env = new Map<string, string>();
  for (const line of envOutput.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env.set(line.slice(0, i), line.slice(i + 1));
  }
  if (![...env.keys()].some((k) => k.startsWith('TS_'))) return undefined;
  const extra = (env.get('TS_EXTRA_ARGS') ?? '').split(/\s+/).filter((t) => t.length > 0);
  const kept: string[] = [];
  let loginServer: string | undefined;
  // Flags this action sets itself; a value may follow as the next token when written without `=`.
  const ours = ['--login-server', '--auth-key', '--authkey', '--force-reauth', '--reset', '--timeout'];
  for (let i = 0; i < extra.length; i++) {
    const t = extra[i]!;
    const name = t.split('=')[0]!;
    if (!ours.includes(name)) {
      kept.push(t);
      continue;
    }
    const takesValue = name !== '--force-reauth' && name !== '--reset';
    const value = t.includes('=') ? t.slice(t.indexOf('=') + 1) : takesValue ? extra[++i] : undefined;
    if (name === '--login-server' && value) loginServer = value;
  }
  const flags: string[] = [];
  if (!kept.some((t) => t.startsWith('--accept-dns'))) flags.push(`--accept-dns=${env.get('TS_ACCEPT_DNS') === 'true'}`);
  if (env.get('TS_HOSTNAME')) flags.push(`--hostname=${env.get('TS_HOSTNAME')}`);
  if (env.get('TS_ROUTES')) flags.push(`--advertise-routes=${env.get('TS_ROUTES')}`);
  return { flags: [...flags, ...kept], ...(loginServer ? { loginServer } : {}) };
}

export interface RejoinOutcome {
  ok: boolean;
  keyId: string;
  keyPrefix: string;
  /** ms epoch the key stops working (as Headscale answered, or as requested). */
  expires: number;
  /** Exit code of `tailscale up` (-1: the exec ended without one, e.g. the container stopped); absent if it did not run. */
  exitCode?: number;
  /** Why the exec did not run to completion (timeout, container gone…), already free of the key. */
  execError?: string;
  /** Set on failure: whether the key was expired again. */
  keyExpired?: boolean;
  /** Last lines of stderr (or stdout when stderr is empty), masked and without the key. */
  outputTail: string;
  /** The login server `tailscale up` was given. */
  loginServer: string;
  /** Whether containerboot's preferences were found and restated. */
  restated: boolean;
}

/** Removes the key itself (legacy keys are not always caught by maskSecrets), then every credential shape. */
export function scrub(text: string, key: string): string {
  return maskSecrets(key ? text.split(key).join(`${keyPrefix(key)}[redacted]`) : text);
}

function tail(text: string, lines = 5, chars = 600): string {
  const t = text.trim().split('\n').slice(-lines).join('\n');
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}

export interface JoinInput {
  container: string;
  /** The pre-auth key; goes into the exec argv only, never into what this returns. */
  key: string;
  loginServer?: string;
  defaultLoginServer: string;
}

export interface JoinOutcome {
  /** Exit code of `tailscale up` (-1: the exec ended without one, e.g. the container stopped); absent if it did not run. */
  exitCode?: number;
  /** Why the exec did not run to completion (timeout, container gone…), already free of the key. */
  execError?: string;
  /** Last lines of stderr (or stdout when stderr is empty), masked and without the key. */
  outputTail: string;
  loginServer: string;
  restated: boolean;
}

/**
 * Runs `tailscale up --force-reauth --auth-key=… --login-server=…` in the container by argv, restating the
 * preferences containerboot set. The key is in the argv only: output and errors are scrubbed of it.
 */
export async function joinWithKey(deps: { docker: ContainerControl }, input: JoinInput): Promise<JoinOutcome> {
  const boot = await readBootFlags(deps.docker, input.container);
  return runUp(deps.docker, input, boot);
}

/** containerboot's preferences, read before any key exists so a container that cannot be inspected costs no key. */
export async function readBootFlags(docker: ContainerControl, container: string): Promise<ReturnType<typeof containerbootFlags>> {
  const env = await docker.exec(container, ['env'], 5000).catch(() => undefined);
  return env && env.exitCode === 0 ? containerbootFlags(env.stdout) : undefined;
}

async function runUp(docker: ContainerControl, input: JoinInput, boot: ReturnType<typeof containerbootFlags>): Promise<JoinOutcome> {
  const loginServer = input.loginServer ?? boot?.loginServer ?? input.defaultLoginServer;
  const argv = [
    'tailscale',
    'up',
    '--force-reauth',
    `--auth-key=${input.key}`,
    `--login-server=${loginServer}`,
    ...(boot?.flags ?? []),
    `--timeout=${REJOIN_UP_TIMEOUT_S}s`,
  ];
  let exec: ExecResult | undefined;
  let execError: string | undefined;
  try {
    exec = await docker.exec(input.container, argv, (REJOIN_UP_TIMEOUT_S + 15) * 1000);
  } catch (err) {
    execError = scrub(err instanceof Error ? err.message : String(err), input.key);
  }
  // Raw output may echo the key: only the scrubbed tail leaves this function.
  const out = exec ? scrub(tail(exec.stderr.trim() ? exec.stderr : exec.stdout), input.key) : '';
  return { outputTail: out, loginServer, restated: boot !== undefined, ...(exec ? { exitCode: exec.exitCode } : {}), ...(execError ? { execError } : {}) };
}

/**
 * Creates a single-use, non-reusable key that expires in REJOIN_KEY_TTL_MS and runs
 * `tailscale up --force-reauth --auth-key=… --login-server=…` in the container, by argv. When the exec fails
 * the key is expired again so it is not left usable. The key is returned to nobody: only its prefix.
 */
export async function rejoinContainer(
  deps: { headscale: HeadscaleApi; docker: ContainerControl; logger: Logger },
  input: RejoinInput,
  now: number,
): Promise<RejoinOutcome> {
  const boot = await readBootFlags(deps.docker, input.container);
  const created: HsPreAuthKey = await createKey(
    deps.headscale,
    { user: input.user, reusable: false, ephemeral: false, expirationMs: REJOIN_KEY_TTL_MS, tags: [] },
    now,
  );
  const prefix = keyPrefix(created.key);
  const parsed = created.expiration ? Date.parse(created.expiration) : Number.NaN;
  const expires = Number.isNaN(parsed) ? now + REJOIN_KEY_TTL_MS : parsed;
  const joined = await runUp(
    deps.docker,
    { container: input.container, key: created.key, ...(input.loginServer ? { loginServer: input.loginServer } : {}), defaultLoginServer: input.defaultLoginServer },
    boot,
  );
  const base = { keyId: created.id, keyPrefix: prefix, expires, ...joined };
  if (joined.exitCode === 0) return { ok: true, ...base };

  let keyExpired = false;
  try {
    await expireKey(deps.headscale, created);
    keyExpired = true;
  } catch (err) {
    deps.logger.error(
      { keyId: created.id, keyPrefix: prefix, err: scrub(err instanceof Error ? err.message : String(err), created.key) },
      'rejoin failed and the fresh pre-auth key could not be expired; expire it by hand',
    );
  }
  return { ...base, ok: false, keyExpired };
}
