import { maskSecrets } from '../../log/logger.js';

/**
 * What the incident diagnosis may know about a container's configuration, taken from `docker inspect`.
 * Secrets never enter it: of `TS_AUTHKEY` only whether it is set, and `--auth-key` values in arguments are
 * removed before anything is kept.
 */
export interface ContainerFacts {
  name: string;
  image: string;
  /** `Config.Hostname` (Docker defaults it to the short container id). */
  hostname?: string;
  /** containerboot's `TS_HOSTNAME`: the name Tailscale registers the node under. */
  tsHostname?: string;
  /** `HostConfig.NetworkMode`: `bridge`, `host`, `none`, `container:<id or name>`, a network name. */
  networkMode?: string;
  /** TS_AUTHKEY / TS_AUTH_KEY set (its value is never kept). */
  authKeySet: boolean;
  /** TS_AUTH_ONCE as written (containerboot treats anything but true as false). */
  authOnce?: string;
  /** `--login-server` from TS_EXTRA_ARGS or the command line. */
  loginServer?: string;
  /** Where loginServer was read. */
  loginServerFrom?: 'TS_EXTRA_ARGS' | 'command';
  /** TS_STATE_DIR (unset: containerboot keeps state in memory, a new node on every start). */
  stateDir?: string;
  /** Docker's `RestartCount` (restarts by the restart policy since the container was created). */
  restartCount: number;
  restartPolicy?: string;
  startedAt?: string;
}

/** The subset of an inspect answer read here (dockerode's ContainerInspectInfo fits it). */
export interface InspectLike {
  Name: string;
  RestartCount?: number;
  Config?: { Image?: string; Hostname?: string; Env?: string[] | null; Cmd?: string[] | null; Entrypoint?: string[] | string | null };
  HostConfig?: { NetworkMode?: string; RestartPolicy?: { Name?: string } };
  State?: { StartedAt?: string };
  Args?: string[];
}

const AUTH_FLAGS = ['--auth-key', '--authkey'];

/** Reads `--login-server` out of an argument list (`--login-server=URL` or `--login-server URL`). */
export function loginServerIn(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--login-server=')) return a.slice('--login-server='.length);
    if (a === '--login-server' && args[i + 1]) return args[i + 1];
  }
  return undefined;
}

/** Arguments without auth-key values (whatever form they take), masked again for other credential shapes. */
export function withoutSecrets(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.split('=')[0]!;
    if (AUTH_FLAGS.includes(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    out.push(maskSecrets(a));
  }
  return out;
}

export function factsFromInspect(insp: InspectLike): ContainerFacts {
  const env = new Map<string, string>();
  for (const e of insp.Config?.Env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) env.set(e.slice(0, i), e.slice(i + 1));
  }
  const extra = withoutSecrets((env.get('TS_EXTRA_ARGS') ?? '').split(/\s+/).filter((t) => t.length > 0));
  const command = withoutSecrets([...(insp.Args ?? []), ...(insp.Config?.Cmd ?? [])].flatMap((a) => a.split(/\s+/)).filter((t) => t.length > 0));
  const fromExtra = loginServerIn(extra);
  const fromCommand = fromExtra ? undefined : loginServerIn(command);
  const loginServer = fromExtra ?? fromCommand;
  const facts: ContainerFacts = {
    name: insp.Name.replace(/^\//, ''),
    image: insp.Config?.Image ?? '',
    authKeySet: Boolean(env.get('TS_AUTHKEY') || env.get('TS_AUTH_KEY')),
    restartCount: insp.RestartCount ?? 0,
  };
  if (insp.Config?.Hostname) facts.hostname = insp.Config.Hostname;
  if (env.get('TS_HOSTNAME')) facts.tsHostname = env.get('TS_HOSTNAME');
  if (insp.HostConfig?.NetworkMode) facts.networkMode = insp.HostConfig.NetworkMode;
  if (env.has('TS_AUTH_ONCE')) facts.authOnce = env.get('TS_AUTH_ONCE');
  if (loginServer) {
    facts.loginServer = maskSecrets(loginServer);
    facts.loginServerFrom = fromExtra ? 'TS_EXTRA_ARGS' : 'command';
  }
  if (env.get('TS_STATE_DIR')) facts.stateDir = env.get('TS_STATE_DIR');
  if (insp.HostConfig?.RestartPolicy?.Name) facts.restartPolicy = insp.HostConfig.RestartPolicy.Name;
  if (insp.State?.StartedAt) facts.startedAt = insp.State.StartedAt;
  return facts;
}
