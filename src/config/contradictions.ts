import { ConfigError } from './errors.js';
import type { Config } from './schema.js';
import { parseRoutes } from '../dispatch/routes.js';
import { DESTINATION_SETTINGS } from './destinations.js';
import { loadRules, RulesError } from '../rules/load.js';
import { dockerHosts } from './docker-hosts.js';
import { splitContainerRef } from '../sources/docker/names.js';

/**
 * Settings that are each valid but cannot work together. headwatch refuses to start on them rather than run
 * in a state the operator did not ask for (a Slack app nobody can reach, approvals nobody can give, routes to
 * nowhere). Each problem names the variables involved and what to change.
 */
export function contradictions(c: Config): string[] {
  const out: string[] = [];
  out.push(...delivery(c), ...approvals(c), ...detectors(c));
  const routes = routeProblem(c);
  if (routes) out.push(routes);
  out.push(...rulesProblems(c));
  out.push(...lease(c));
  out.push(...dockerHostsProblems(c));
  return out;
}

/** One way to say where the engines are: DOCKER_HOST for one, HEADWATCH_DOCKER_HOSTS for several. */
function dockerHostsProblems(c: Config): string[] {
  if (c.HEADWATCH_DOCKER_HOSTS && c.DOCKER_HOST) {
    return [
      `DOCKER_HOST and HEADWATCH_DOCKER_HOSTS are both set; set only one: DOCKER_HOST for one engine (named local), or HEADWATCH_DOCKER_HOSTS listing every engine (e.g. local=${c.DOCKER_HOST},…)`,
    ];
  }
  // host/container names a host that must exist; a plain name means that name on any host.
  const hosts = dockerHosts(c).map((h) => h.name);
  const out: string[] = [];
  const settings: [string, string[]][] = [
    ['HEADSCALE_CONTAINER', [c.HEADSCALE_CONTAINER]],
    ['TAILSCALE_CONTAINERS', c.TAILSCALE_CONTAINERS ?? []],
    ['HEADWATCH_RESTARTABLE', c.HEADWATCH_RESTARTABLE ?? []],
  ];
  for (const [setting, names] of settings) {
    for (const n of names) {
      const { host } = splitContainerRef(n);
      if (host !== undefined && !hosts.includes(host)) out.push(`${setting}: "${n}" names host "${host}", which is not configured (hosts: ${hosts.join(', ')})`);
    }
  }
  return out;
}

/** The leader renews well within its lease, and the lease is long enough to survive one slow renewal. */
function lease(c: Config): string[] {
  const out: string[] = [];
  if (c.HEADWATCH_LEASE_TTL < 3_000) out.push(`HEADWATCH_LEASE_TTL (${c.HEADWATCH_LEASE_TTL / 1000}s) must be at least 3s: a shorter lease is lost to one slow database answer`);
  if (c.HEADWATCH_LEASE_RENEW * 2 > c.HEADWATCH_LEASE_TTL) {
    out.push(`HEADWATCH_LEASE_RENEW (${c.HEADWATCH_LEASE_RENEW / 1000}s) must be at most half of HEADWATCH_LEASE_TTL (${c.HEADWATCH_LEASE_TTL / 1000}s), so one missed renewal does not lose the lease`);
  }
  return out;
}

/** A rules file that cannot be used stops the start, naming the file and the rule. */
function rulesProblems(c: Config): string[] {
  if (!c.HEADWATCH_RULES_FILE) return [];
  try {
    loadRules(c.HEADWATCH_RULES_FILE);
    return [];
  } catch (err) {
    if (!(err instanceof RulesError)) throw err;
    return err.problems.map((p) => `HEADWATCH_RULES_FILE ${err.file}: ${p}`);
  }
}

/** Destination names HEADWATCH_ROUTES may use with these settings (the dispatcher builds exactly these). */
export function configuredDestinations(c: Config): string[] {
  const out: string[] = [];
  if (c.HEADWATCH_CONSOLE) out.push('console');
  if (c.HEADWATCH_WEBHOOK_URL) out.push('webhook');
  if (c.SLACK_BOT_TOKEN) out.push('slack');
  if (c.DISCORD_TOKEN) out.push('discord');
  return out;
}

function delivery(c: Config): string[] {
  const out: string[] = [];
  if (c.HEADWATCH_WEBHOOK_SECRET && !c.HEADWATCH_WEBHOOK_URL) {
    out.push('HEADWATCH_WEBHOOK_SECRET is set but HEADWATCH_WEBHOOK_URL is not; set the URL or remove the secret');
  }
  if (c.HEADWATCH_EVENTS_SECRET && !c.HEADWATCH_EVENTS_URL) {
    out.push('HEADWATCH_EVENTS_SECRET is set but HEADWATCH_EVENTS_URL is not; set the URL or remove the secret');
  }
  if (c.HEADWATCH_EVENTS_URL && !c.HEADSCALE_API_KEY) {
    out.push('HEADWATCH_EVENTS_URL: node, key and policy events come from the Headscale API; set HEADSCALE_API_KEY (headscale apikeys create) or remove HEADWATCH_EVENTS_URL');
  }
  if (c.SLACK_BOT_TOKEN) {
    if (!c.SLACK_APP_TOKEN && !c.SLACK_SIGNING_SECRET) {
      out.push(
        'SLACK_SIGNING_SECRET: Slack HTTP mode (SLACK_BOT_TOKEN without SLACK_APP_TOKEN) needs the signing secret to verify requests; ' +
          'set SLACK_SIGNING_SECRET (Basic Information → App Credentials), or SLACK_APP_TOKEN for Socket Mode',
      );
    }
    if (!c.SLACK_CHANNEL) out.push('SLACK_CHANNEL: required when SLACK_BOT_TOKEN is set (the channel id, C…, alerts are posted to)');
  } else {
    for (const k of ['SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_CHANNEL'] as const) {
      if (c[k]) out.push(`${k} is set but SLACK_BOT_TOKEN is not, so Slack stays off; set SLACK_BOT_TOKEN or remove ${k}`);
    }
  }
  if (c.DISCORD_TOKEN) {
    for (const k of ['DISCORD_APPLICATION_ID', 'DISCORD_GUILD_ID', 'DISCORD_CHANNEL_ID'] as const) {
      if (!c[k]) out.push(`${k}: required when DISCORD_TOKEN is set`);
    }
  } else if (c.DISCORD_CHANNEL_ID) {
    out.push('DISCORD_CHANNEL_ID is set but DISCORD_TOKEN is not, so Discord stays off; set DISCORD_TOKEN or remove DISCORD_CHANNEL_ID');
  }
  return out;
}

function approvals(c: Config): string[] {
  const approvers = new Set([...c.HEADWATCH_APPROVERS, ...c.HEADWATCH_ADMINS]);
  const requesters = new Set([...c.HEADWATCH_OPERATORS, ...c.HEADWATCH_ADMINS]);
  const required = c.HEADWATCH_APPROVALS_REQUIRED;
  // With no role list at all every action is refused anyway; the default of 1 then contradicts nothing.
  if (required <= approvers.size || (requesters.size === 0 && required === 1)) return [];
  return [
    `HEADWATCH_APPROVALS_REQUIRED=${required} but only ${approvers.size} ${approvers.size === 1 ? 'person' : 'people'} can approve ` +
      `(HEADWATCH_APPROVERS and HEADWATCH_ADMINS together): no action could ever be approved. ` +
      `Add approvers or lower HEADWATCH_APPROVALS_REQUIRED to at most ${Math.max(1, approvers.size)}`,
  ];
}

function detectors(c: Config): string[] {
  const out: string[] = [];
  if (c.CPU_CLEAR_MARGIN_PERCENT >= c.CPU_THRESHOLD_PERCENT) {
    out.push(
      `CPU_CLEAR_MARGIN_PERCENT (${c.CPU_CLEAR_MARGIN_PERCENT}) must be below CPU_THRESHOLD_PERCENT (${c.CPU_THRESHOLD_PERCENT}): ` +
        'an alert clears below threshold − margin, which would never happen',
    );
  }
  if (c.TAILSCALE_CONTAINERS?.includes(c.HEADSCALE_CONTAINER)) {
    out.push(`TAILSCALE_CONTAINERS lists "${c.HEADSCALE_CONTAINER}", which is HEADSCALE_CONTAINER; a container is watched as one or the other`);
  }
  if (c.HEADWATCH_REPEAT_INTERVAL < c.HEADWATCH_GROUP_INTERVAL) {
    out.push('HEADWATCH_REPEAT_INTERVAL is shorter than HEADWATCH_GROUP_INTERVAL; repeats go out at most once per group interval, so raise it to at least that');
  }
  return out;
}

function routeProblem(c: Config): string | undefined {
  const spec = c.HEADWATCH_ROUTES?.trim();
  if (!spec) return undefined;
  try {
    const known = configuredDestinations(c);
    parseRoutes(spec, known, known.filter((d) => DESTINATION_SETTINGS[d]?.channels));
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('; ');
    throw err;
  }
}
