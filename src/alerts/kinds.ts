import type { Alert, AlertKind } from './model.js';

/**
 * Every alert kind headwatch raises, what it means, when it fires and clears, and what to do about it. The
 * README's alert table is generated from this list (src/alerts/readme-table.ts) and a test fails when the two
 * differ, so the documentation cannot drift from the code. The mapped type makes a new AlertKind without an
 * entry a compile error.
 *
 * `advise` turns one alert's evidence (labels, subject) into one or two sentences of next step and, where one
 * helps, a slash subcommand (`status`, `rejoin ts-laptop`): renderers put the configured command name in front.
 */
export interface Advice {
  text: string;
  /** Subcommand and arguments, without the leading `/headscale`. */
  command?: string;
}

export type AdviceInput = Pick<Alert, 'kind' | 'subject' | 'severity' | 'labels'>;

export interface KindEntry {
  /** What the alert means, one sentence. */
  meaning: string;
  fires: string;
  clears: string;
  /** The general next step, for the README (advise() says it for the evidence at hand). */
  whatToDo: string;
  advise(a: AdviceInput): Advice;
}

const MAP_STORM =
  'Headscale floods this client with map updates (a map-response storm), usually because the client is far newer than a pinned Headscale: upgrade Headscale, and if the flood goes on, re-register the node.';

export const ALERT_KINDS: { readonly [K in AlertKind]: KindEntry } = {
  'node-flapping': {
    meaning: 'A node keeps connecting and disconnecting.',
    fires: '`FLAP_COUNT` online/offline changes of one node within `FLAP_WINDOW_SECONDS` (Headscale logs — JSON and text, with or without timestamp, 0.22–0.30 incl. 0.23 development builds and the 0.27+ batcher lines — and the API poller, counted once); critical at three times the count',
    clears: 'no change for half the window',
    whatToDo: 'Compare the client version with Headscale\'s (`/headscale status`), check that the reverse proxy passes the `/ts2021` upgrade and that Headscale is served over HTTPS on 443; then re-register the node if it still flaps (`/headscale rejoin <container>`).',
    advise: (a) => ({
      text: `Compare the Tailscale version of ${a.labels.nodeName ?? a.subject} with Headscale's, check that the reverse proxy passes the /ts2021 upgrade (look for proxy-misconfigured, version-skew or forced-443-loop alerts beside this one), and whether the device's own network drops. If it still flaps, re-register it.`,
      command: 'status',
    }),
  },
  'cpu-sustained': {
    meaning: 'A watched container uses more CPU than `CPU_THRESHOLD_PERCENT` for a sustained time.',
    fires: 'every sample ≥ `CPU_THRESHOLD_PERCENT` for `CPU_SUSTAIN_SECONDS`: percent of the container\'s CPU limit when it has one (`--cpus`, compose `cpus:`), else percent of one core; critical at 1.5 × the threshold',
    clears: 'every sample below threshold − `CPU_CLEAR_MARGIN_PERCENT` for the same time, or the container stops',
    whatToDo: 'For Headscale or Tailscale this is most often a map-response storm: look for ratelimit-flood and version-skew alerts and fix those first (upgrade the pinned side). Without a CPU limit, set one so a runaway container cannot starve the host.',
    advise: (a) => {
      const cap =
        a.labels.cpuLimit !== 'none'
          ? ''
          : ' It has no CPU limit, so the figure is percent of one core: give it one (--cpus, compose cpus:) so it cannot starve the host.';
      return {
        text: `If ${a.subject} is Headscale or a Tailscale client this is most often a map-response storm: look for ratelimit-flood or version-skew alerts and fix the version mismatch before restarting it.${cap}`,
        command: 'alerts',
      };
    },
  },
  'ratelimit-flood': {
    meaning: 'tailscaled keeps rate-limiting one of its own log messages: something repeats many times a second.',
    fires: '`RATELIMIT_COUNT` `[RATELIMIT]` lines from one container within `RATELIMIT_WINDOW_SECONDS`, or two lines with ≥ 100 messages dropped (one line at start is normal); critical for a `control:` map-response storm',
    clears: 'no `[RATELIMIT]` line for half the window',
    whatToDo: 'Depends on the message that floods (named in the alert): `control: [v\\x00JSON]…` is a map-response storm (upgrade Headscale, then re-register the node); `netcheck:`/`magicsock:` is network reachability (UDP 41641 and STUN 3478 outbound, DERP reachable); `Received error:` a login or reconnect loop (check the auth key); `forcing port 443` a plain-HTTP Headscale.',
    advise: (a) => ratelimitAdvice(a.labels.format ?? '', a.subject),
  },
  'proxy-misconfigured': {
    meaning: 'The reverse proxy in front of Headscale does not pass the connection upgrade clients need.',
    fires: 'at once, on Headscale\'s `no upgrade header in TS2021 request` or a Noise upgrade failure caused by the proxy; client side, on Tailscale\'s `unexpected HTTP response: 3xx/4xx` or `server switched to unexpected protocol` answering the `/ts2021` upgrade',
    clears: '`HEADWATCH_MISCONFIG_QUIET` (15 min) without another such line',
    whatToDo: 'Make the proxy pass upgrades on every path it serves for Headscale (nginx: `proxy_http_version 1.1`, `proxy_set_header Upgrade $http_upgrade`, `proxy_set_header Connection $connection_upgrade`; Caddy and Traefik do by default — check middlewares that strip headers), then reload it.',
    advise: () => ({
      text: 'Make the proxy in front of Headscale pass the upgrade on every path (nginx: proxy_http_version 1.1, proxy_set_header Upgrade $http_upgrade and Connection $connection_upgrade; Caddy and Traefik do by default unless a middleware strips headers), then reload it.',
    }),
  },
  'unsupported-client': {
    meaning: 'Headscale rejects a Tailscale client as too old.',
    fires: 'at once, on Headscale\'s `unsupported client connected` or a Noise rejection naming client and minimum versions',
    clears: '`HEADWATCH_MISCONFIG_QUIET` (15 min) without another rejection',
    whatToDo: 'Upgrade that client to at least the minimum version the alert names, or run a Headscale release that still supports it.',
    advise: (a) => ({
      text: `Upgrade the Tailscale ${a.subject} to at least the minimum version named above, or run a Headscale release that still supports it; the node cannot connect until then.`,
      command: 'nodes',
    }),
  },
  'forced-443-loop': {
    meaning: 'A Tailscale client forces port 443 on quick re-dials, which loops against a plain-HTTP Headscale.',
    fires: 'at once, on tailscaled\'s `forcing port 443 dial`',
    clears: '`HEADWATCH_MISCONFIG_QUIET` (15 min) without another',
    whatToDo: 'Serve Headscale over HTTPS on 443 (directly or behind a TLS proxy) and point `--login-server` (in `TS_EXTRA_ARGS`) at the `https://` URL.',
    advise: (a) => ({
      text: `Serve Headscale over HTTPS on port 443 (directly or behind a TLS proxy) and set --login-server in ${a.subject}'s TS_EXTRA_ARGS to the https:// URL.`,
    }),
  },
  'version-skew': {
    meaning: 'A Tailscale client and Headscale are too far apart in version.',
    fires: 'a client (from `tailscale version` in the container, or the logs) below the server\'s minimum (critical), or more than 4 minor versions ahead of the newest the server knows (warning: map-response storms)',
    clears: 'the versions are compatible again, or the client is not seen for 24 h',
    whatToDo: 'Below the minimum: upgrade that client. Far ahead: upgrade Headscale; if a storm continues, re-register the node (`/headscale rejoin <container>`).',
    advise: (a) =>
      a.labels.direction === 'below'
        ? { text: `Upgrade Tailscale on ${a.subject} to the minimum version named above or newer; the server refuses it until then.`, command: 'status' }
        : { text: `Upgrade Headscale to a release that knows this client (or pin the client back); if a map-response storm continues afterwards, re-register the node.`, command: 'status' },
  },
  'headscale-unreachable': {
    meaning: 'headwatch cannot use the Headscale API: it is down, times out, or refuses the API key.',
    fires: 'two failed polls in a row (`HEADSCALE_POLL_SECONDS`), or the first poll whose key is refused; node offline/flapping alerts are held back meanwhile',
    clears: 'the first successful poll',
    whatToDo: 'Key refused: create one (`headscale apikeys create --expiration 90d` in the Headscale container) and set `HEADSCALE_API_KEY`. Otherwise check that Headscale runs and that `HEADSCALE_URL` is reachable from headwatch.',
    advise: (a) =>
      a.labels.errorCode === 'unauthorized'
        ? { text: 'Create a new API key (docker exec <headscale container> headscale apikeys create --expiration 90d), set it as HEADSCALE_API_KEY (or HEADSCALE_API_KEY_FILE) and restart headwatch.' }
        : { text: 'Check that the Headscale container runs and answers (its logs, docker ps) and that HEADSCALE_URL is the address headwatch reaches it at.', command: 'status' },
  },
  'node-expiring': {
    meaning: 'A node\'s key expires soon; the device then drops off the tailnet.',
    fires: 'the key expires within `HEADSCALE_EXPIRY_WARN_HOURS` (from the API poller)',
    clears: 'the key is renewed (with 1 h margin), expiry is disabled, the node expires (then node-expired) or is deleted',
    whatToDo: 'Re-authenticate the device before then (`tailscale up --force-reauth` on it, or a new key from `/headscale create-key <user>`), or disable key expiry for it.',
    advise: (a) => ({
      text: `Re-authenticate ${a.subject} before it expires (tailscale up --force-reauth on the device, or re-join it with a new pre-auth key), or disable key expiry for it in Headscale.`,
      command: 'nodes',
    }),
  },
  'node-expired': {
    meaning: 'A node\'s key has expired: the device is cut off until it re-authenticates.',
    fires: 'the key\'s expiry passes (nodes that expired over a day before headwatch first saw them are only listed)',
    clears: 'the key is renewed, expiry is disabled, or the node is deleted',
    whatToDo: 'Re-authenticate the device (`tailscale up --force-reauth`, or a new key from `/headscale create-key <user>`); delete the node if it is gone for good (`/headscale delete-node <id>`).',
    advise: (a) => ({
      text: `Re-authenticate ${a.subject} (tailscale up --force-reauth on the device, or re-join with a new pre-auth key); if the device is gone for good, delete the node.`,
      command: a.labels.nodeId ? `delete-node ${a.labels.nodeId}` : 'nodes',
    }),
  },
  'node-created': {
    meaning: 'A node joined the tailnet (a notice, not a problem).',
    fires: 'a node appears in the Headscale node list between two polls',
    clears: 'by itself after 10 min, or when the node is deleted again',
    whatToDo: 'Nothing if you expected it. If you do not recognise the node, delete it (`/headscale delete-node <id>`) and expire the key it used.',
    advise: (a) => ({
      text: `Nothing to do if you expected ${a.subject}. If you do not recognise it, delete it and expire the pre-auth key it joined with.`,
      ...(a.labels.nodeId ? { command: `delete-node ${a.labels.nodeId}` } : {}),
    }),
  },
  'node-deleted': {
    meaning: 'A node was removed from Headscale (a notice, not a problem).',
    fires: 'a node vanishes from the Headscale node list between two polls',
    clears: 'by itself after 10 min',
    whatToDo: 'Nothing if it was removed on purpose; `/headscale audit` shows whether it was done from chat.',
    advise: () => ({ text: 'Nothing to do if it was removed on purpose; the audit log shows whether it was done from chat, and by whom.', command: 'audit' }),
  },
  'node-offline': {
    meaning: 'A node is offline (kept for routing rules and inhibition; offline nodes are counted by node-flapping and listed by `/headscale nodes`).',
    fires: 'not raised on its own by this release',
    clears: '—',
    whatToDo: 'Check the device: is tailscaled running there, and can it reach Headscale? `/headscale nodes` shows when it was last seen.',
    advise: (a) => ({ text: `Check ${a.subject}: is tailscaled running there, and can it reach Headscale?`, command: 'nodes' }),
  },
  'docker-unreachable': {
    meaning: 'headwatch cannot reach the Docker engine (with several hosts: one alert per host, naming it), so container logs and CPU there are not watched.',
    fires: 'the engine stays unreachable for 45 s',
    clears: 'the engine answers again',
    whatToDo: 'Check that dockerd runs and that `DOCKER_HOST` (or that host\'s entry in `HEADWATCH_DOCKER_HOSTS`) points at it (through a socket proxy: that the proxy runs and allows headwatch\'s calls).',
    advise: () => ({
      text: 'Check that dockerd runs on the host and that DOCKER_HOST points at it; through a socket proxy, check that the proxy runs and allows headwatch\'s calls.',
      command: 'status',
    }),
  },
  'platform-down': {
    meaning: 'A chat platform (Slack or Discord) has been disconnected; its alerts wait in the outbox.',
    fires: 'the platform stays disconnected for a minute; reported on the other destinations',
    clears: 'the connection is back (queued alerts are then delivered)',
    whatToDo: 'Check the network from headwatch to the platform and its token (`SLACK_BOT_TOKEN`/`SLACK_APP_TOKEN`, `DISCORD_TOKEN`); nothing is lost meanwhile.',
    advise: (a) => ({
      // The platform's name and settings come with the alert (src/dispatch/platform-health.ts); no platform is named here.
      text: `Check the network from headwatch to ${a.labels['platform'] ?? a.subject} and the token (${a.labels['settings'] ?? `the ${a.subject} token setting`}); queued alerts are delivered when it is back.`,
    }),
  },
  'tls-error': {
    meaning: 'TLS fails on the control connection, on Headscale\'s side (handshakes, ACME certificates) or a client\'s.',
    fires: 'Headscale\'s `http: TLS handshake error from <peer>` and ACME (`acme/autocert`) lines, Tailscale\'s `fetch control key: … tls:/x509:` errors and certificate warnings: at once when it stops a client or the certificate cannot be obtained, else 3 failures from one peer in 10 min (dropped handshakes and scanners without SNI are ignored)',
    clears: '15 min without another',
    whatToDo: 'Certificate not trusted: serve the full chain from a public CA (or install the CA on the clients). ACME failing: check that ports 80/443 reach Headscale and the DNS name points at it. The alert names the side and the peer.',
    advise: (a) =>
      a.labels.acme === 'true'
        ? { text: 'Headscale cannot get its certificate: check that the ACME challenge port (80 for HTTP-01, 443 for TLS-ALPN-01) reaches Headscale from the internet and that the DNS name points at this host.' }
        : a.labels.side === 'server'
          ? { text: `Handshakes from ${a.labels.peer ?? 'a client'} fail: check the certificate Headscale (or the proxy in front of it) serves — full chain, not expired, matching the name clients use.` }
          : { text: `The client does not accept the control server's certificate: serve the full chain from a public CA (or install the CA in the container), and check that --login-server uses the certificate's name.` },
  },
  'auth-rejected': {
    meaning: 'Headscale refused a Tailscale client\'s login: its auth key is rejected, expired, used up or deleted, or the node was expired.',
    fires: 'at once (one per container), on Tailscale\'s `invalid key`, `authkey expired`, `invalid pre auth key`, `cannot decrypt response`, `control server is too old; no noise key`, login-state health errors, or `Switching ipn state Running -> NeedsLogin`',
    clears: 'the client reaches Running (or boot completes, or the container is removed); 6 h without another line',
    whatToDo: 'Re-join it with a fresh key (`/headscale rejoin <container>`), then update `TS_AUTHKEY` or set `TS_AUTH_ONCE=true`: containerboot re-sends the old key on every start.',
    advise: (a) => ({
      text: `Re-register ${a.subject} with a fresh single-use key, then update its TS_AUTHKEY or set TS_AUTH_ONCE=true, because containerboot re-sends the old key on every start.`,
      command: `rejoin ${a.subject}`,
    }),
  },
  'api-key-rejected': {
    meaning: 'Headscale rejected an API key: something (maybe headwatch) calls its API with an invalid or expired key.',
    fires: 'at once, one per client address, on Headscale\'s `invalid token`, `failed to validate token` or a missing `Bearer` prefix',
    clears: '15 min without another',
    whatToDo: 'Find what runs at the client address the alert names and give it a current key (`headscale apikeys list` / `create`); if it is headwatch, renew `HEADSCALE_API_KEY`.',
    advise: (a) => ({
      text: `Find what runs at ${a.labels.clientAddress ?? a.subject} and give it a current API key (headscale apikeys list, headscale apikeys create --expiration 90d); if it is headwatch itself, renew HEADSCALE_API_KEY.`,
    }),
  },
  'control-path-errors': {
    meaning: 'A Tailscale client keeps failing to talk to the control server (errors other than auth, TLS or proxy).',
    fires: '5 within 10 min from one container: `Received error: …`, `control: lite map update error …`, `map response long-poll timed out!`',
    clears: '10 min without another',
    whatToDo: 'Check that Headscale is up and reachable from the container (network, DNS) and that a proxy in front of it allows long polls (timeouts above 60 s).',
    advise: (a) => ({
      text: `Check that Headscale${a.labels.controlHost ? ` at ${a.labels.controlHost}` : ''} is up and reachable from ${a.subject} (network, DNS), and that any proxy in between keeps long polls open for more than 60 s.`,
      command: 'status',
    }),
  },
  'map-stream-errors': {
    meaning: 'Headscale keeps failing to deliver map updates: clients drop their map stream and reconnect.',
    fires: '10 within 5 min from Headscale\'s logs: `Could not write the map response`, `Failed to write response` (poll path), `cannot write update to client`, `failed to apply change`, `send: connection failed` (each also joins the node\'s flapping evidence)',
    clears: '10 min without another',
    whatToDo: 'Look for node-flapping alerts on the same nodes, a proxy timing out long polls (raise its read timeout above 60 s), or an overloaded Headscale (cpu-sustained).',
    advise: (a) => ({
      text: `${a.labels.nodes ? `${a.labels.nodes} node(s) affected: ` : ''}look for node-flapping on the same nodes, a proxy timing out long polls (raise its read timeout above 60 s), or an overloaded Headscale (cpu-sustained).`,
      command: 'alerts',
    }),
  },
  'map-response-storm': {
    meaning: 'Headscale sends map responses far faster than its node count explains (from its own /metrics).',
    fires: 'Headscale `/metrics` (`HEADSCALE_METRICS_URL`): `headscale_mapresponse_sent_total` + `…_generated_total` per node (NodeStore gauge, else the API\'s node count) ≥ `MAP_STORM_RATE` per node per minute for `MAP_STORM_SUSTAIN_SECONDS`, with `headscale_mapresponse_ended_total{reason}` in the evidence',
    clears: 'below half the rate for as long',
    whatToDo: 'Usually a client far newer than a pinned Headscale, or a node re-registering in a loop: upgrade Headscale, and look for version-skew, ratelimit-flood or container-restart-loop alerts naming the node.',
    advise: (a) => ({
      text: `${a.labels.perNodePerMinute ? `${a.labels.perNodePerMinute} map responses per node per minute: ` : ''}upgrade Headscale (one minor at a time) if clients are newer than it knows, and look for version-skew, ratelimit-flood or container-restart-loop alerts naming the node that drives the storm.`,
      command: 'alerts',
    }),
  },
  'log-rule': {
    meaning: 'A rule of your own (`HEADWATCH_RULES_FILE`) matched.',
    fires: 'the rule\'s `count` matches within its `window` on the watched containers\' lines (see "Your own log rules")',
    clears: 'the rule\'s `clear_after` without a match',
    whatToDo: 'The rule\'s summary says what it found (fingerprint `log-rule:<rule>@<container>`); what to do is the rule author\'s call. Silence a noisy rule or adjust its `count`/`window`.',
    advise: (a) => ({
      text:
        a.labels.advice && a.labels.advice.trim() !== ''
          ? a.labels.advice
          : `Your rule ${a.labels.rule ?? a.subject} (HEADWATCH_RULES_FILE) matched${a.labels.container ? ` in ${a.labels.container}` : ''}; its summary above says what it found. If it is noisy, raise its count or window, or silence it.`,
    }),
  },
  'container-missing': {
    meaning: 'A container headwatch watches does not exist: never created, misnamed, or removed.',
    fires: 'a name from `HEADSCALE_CONTAINER`/`TAILSCALE_CONTAINERS` absent at start, or a watched container removed, for `CONTAINER_MISSING_SECONDS` (a compose recreate takes seconds); names what was looked for and containers with a similar name or image',
    clears: 'a container of that name exists again (or, for one found by image, headwatch restarts without it)',
    whatToDo: 'If the alert names a similar container, that is probably the one: set `HEADSCALE_CONTAINER` / `TAILSCALE_CONTAINERS` to its name and restart headwatch. Otherwise create or start it (`docker compose up -d`).',
    advise: (a) => {
      const setting = a.labels.setting ?? 'HEADSCALE_CONTAINER';
      if (a.labels.similar) {
        const value = setting === 'HEADSCALE_CONTAINER' ? a.labels.similar : `…,${a.labels.similar}`;
        return { text: `If "${a.labels.similar}" is the one you meant, set ${setting}=${value} and restart headwatch; otherwise create or start ${a.subject} (docker compose up -d).`, command: 'status' };
      }
      return a.labels.reason === 'removed'
        ? { text: `Recreate ${a.subject} (docker compose up -d), or, if it was removed for good, silence this alert; headwatch forgets a container found by image when it restarts.`, command: 'status' }
        : { text: `Create or start ${a.subject} (docker compose up -d), or set ${setting} to the name docker ps shows and restart headwatch.`, command: 'status' };
    },
  },
  'container-down': {
    meaning: 'A watched container has stopped and nothing has restarted it.',
    fires: 'stopped (exited, killed, OOM-killed) for `CONTAINER_DOWN_SECONDS` — at least 65 s, the engine\'s longest restart back-off, when its restart policy will bring it back and it was not stopped with `docker stop` — or already stopped when headwatch starts; with the exit code and the last log lines; held back while the same container\'s restart loop fires',
    clears: 'the container runs again, or it is removed (then container-missing)',
    whatToDo: 'Read the last log lines in the alert: an OOM kill needs a higher memory limit (or a fix for what grew); another exit code is the program\'s own error. Start it again with `/headscale restart <container>`, and give it `restart: unless-stopped` so a crash comes back by itself.',
    advise: (a) => {
      const restart = `restart ${a.subject}`;
      if (a.labels.oomKilled === 'true') {
        return { text: `It ran out of memory under its limit: raise the memory limit (compose mem_limit / deploy.resources.limits.memory) or find what grew, then start it again.`, command: restart };
      }
      const policy = !a.labels.restartPolicy || a.labels.restartPolicy === 'no' ? ' Give it restart: unless-stopped so a crash brings it back by itself.' : '';
      return { text: `The last log lines above say why it stopped (exit code ${a.labels.exitCode ?? 'unknown'}); fix that and start it again.${policy}`, command: restart };
    },
  },
  'container-restart-loop': {
    meaning: 'A watched container keeps exiting and being restarted by its restart policy.',
    fires: '`CONTAINER_RESTART_COUNT` starts within `CONTAINER_RESTART_WINDOW_SECONDS`, with the engine\'s restart count, the last exit and log lines and, for Tailscale containers, whether `TS_AUTHKEY` is set without `TS_AUTH_ONCE=true`; critical for Headscale or at three times the count',
    clears: 'no start for half the window while it runs, or the container is removed',
    whatToDo: 'For Tailscale (containerboot exits whenever tailscaled leaves Running): a `TS_AUTHKEY` Headscale no longer accepts, re-sent on every start, is the usual cause — put a fresh key (`/headscale create-key <user>`) in `TS_AUTHKEY`, set `TS_AUTH_ONCE=true` and recreate the container. Otherwise the log lines in the alert say why it exits.',
    advise: (a) => {
      if (a.labels.role === 'tailscale' && a.labels.authKey === 'set-without-auth-once') {
        return {
          text: `containerboot re-sends TS_AUTHKEY on every start and exits when Headscale refuses it: put a fresh key in ${a.subject}'s TS_AUTHKEY, set TS_AUTH_ONCE=true beside it, and recreate the container.`,
          command: 'create-key <user>',
        };
      }
      if (a.labels.oomKilled === 'true') return { text: `It is killed for memory on every run: raise its memory limit or find what grows.` };
      if (a.labels.role === 'tailscale') {
        return { text: `containerboot exits whenever tailscaled leaves Running: the log lines above show why (auth key, login server, network). For an auth problem, put a fresh key in TS_AUTHKEY and recreate it.`, command: 'create-key <user>' };
      }
      return { text: `The log lines above show why ${a.subject} exits on every start (exit code ${a.labels.exitCode ?? 'unknown'}); fix that, it restarts by itself.`, command: 'alerts' };
    },
  },
};

export const KIND_NAMES = Object.keys(ALERT_KINDS) as AlertKind[];

/** Advice for one alert, with the slash command spelled out (`/headscale status`). */
export function adviceFor(a: AdviceInput, commandName = 'headscale'): { text: string; command?: string } {
  const entry = (ALERT_KINDS as Record<string, KindEntry | undefined>)[a.kind];
  if (!entry) return { text: 'No advice is known for this kind of alert yet.' };
  const advice = entry.advise(a);
  return advice.command ? { text: advice.text, command: `/${commandName} ${advice.command}` } : { text: advice.text };
}

/** RATELIMIT floods say which message floods: the format string points at the subsystem (tailscale.md §2). */
function ratelimitAdvice(format: string, container: string): Advice {
  const rejoin = `rejoin ${container}`;
  if (format.startsWith('control: [v\u0000JSON]') || format.startsWith('control: [v\\x00JSON]')) return { text: MAP_STORM, command: rejoin };
  if (format.startsWith('netcheck:') || format.startsWith('magicsock:')) {
    return {
      text: `Network reachability: ${container} keeps failing its connectivity checks. Allow outbound UDP 41641 and STUN (UDP 3478) from its host, and check that the DERP servers in Headscale's derp map are reachable from it.`,
    };
  }
  if (format.startsWith('Received error:')) {
    return { text: `A login or reconnect loop: the error is in ${container}'s log. A rejected or expired auth key is the usual cause; re-register it with a fresh key.`, command: rejoin };
  }
  if (format.includes('forcing port 443')) {
    return { text: 'The client keeps re-dialling the control server on port 443: serve Headscale over HTTPS on 443 and point --login-server at the https:// URL.' };
  }
  if (format.startsWith('[v\u0000JSON]') || format.startsWith('[v\\x00JSON]')) {
    return { text: `Something restarts ${container}'s backend over and over (tailscale up in a loop, from a script or healthcheck): stop whatever runs it.` };
  }
  if (format.startsWith('health(')) return { text: `Health warnings flap in ${container}: run tailscale status there and fix the warning it names.` };
  if (format.startsWith('control:')) {
    return { text: `Control-path messages flood: check that ${container} reaches Headscale steadily (its logs, Headscale's logs, the proxy between them).`, command: 'status' };
  }
  return { text: `Look at which message floods in ${container}'s log (named in the alert) to see which subsystem repeats; the alert clears when it stops.` };
}
