import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const load = (env: Record<string, string>, dotenvPath: string | false = false) => loadConfig({ env, dotenvPath });

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const c = load({});
    expect(c.HEADWATCH_DB).toBe('./data/headwatch.db');
    expect(c.HEADWATCH_HTTP_PORT).toBe(9464);
    expect(c.HEADSCALE_CONTAINER).toBe('headscale');
    expect(c.TAILSCALE_CONTAINERS).toBeUndefined();
    expect(c.CPU_THRESHOLD_PERCENT).toBe(80);
    expect(c.FLAP_COUNT).toBe(6);
    expect(c.FLAP_WINDOW_SECONDS).toBe(300);
    expect(c.HEADSCALE_URL).toBe('http://127.0.0.1:8080');
  });

  it('names every bad variable and what is allowed, all at once', () => {
    let err: unknown;
    try {
      load({ CPU_THRESHOLD_PERCENT: 'lots', HEADWATCH_HTTP_PORT: '70000', LOG_LEVEL: 'chatty', HEADWATCH_WEBHOOK_URL: 'ftp://x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('CPU_THRESHOLD_PERCENT: must be a number');
    expect(msg).toContain('HEADWATCH_HTTP_PORT: must be at most 65535');
    expect(msg).toMatch(/LOG_LEVEL: must be one of trace, debug, info/);
    expect(msg).toContain('HEADWATCH_WEBHOOK_URL: must be an http:// or https:// URL');
  });

  it('splits TAILSCALE_CONTAINERS and trims blanks', () => {
    expect(load({ TAILSCALE_CONTAINERS: ' ts-a, ts-b ,,' }).TAILSCALE_CONTAINERS).toEqual(['ts-a', 'ts-b']);
  });

  it('reads every secret from NAME_FILE and never echoes a bad secret value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-cfg-'));
    writeFileSync(join(dir, 'key'), 'hskey-api-abcdefabcdef-secretsecret\n');
    const c = load({ HEADSCALE_API_KEY_FILE: join(dir, 'key') });
    expect(c.HEADSCALE_API_KEY).toBe('hskey-api-abcdefabcdef-secretsecret');
    expect(() => load({ HEADSCALE_API_KEY_FILE: join(dir, 'missing') })).toThrow(/HEADSCALE_API_KEY_FILE: cannot read .*missing \(ENOENT\)/);
    expect(() => load({ HEADSCALE_API_KEY: 'x', HEADSCALE_API_KEY_FILE: join(dir, 'key') })).toThrow(/both set/);
  });

  it('takes .env values under real environment variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-cfg-'));
    const path = join(dir, '.env');
    writeFileSync(path, 'FLAP_COUNT=9\nCPU_SUSTAIN_SECONDS=30\n');
    const c = load({ CPU_SUSTAIN_SECONDS: '45' }, path);
    expect(c.FLAP_COUNT).toBe(9);
    expect(c.CPU_SUSTAIN_SECONDS).toBe(45);
  });

  it('checks settings that only make sense together', () => {
    expect(() => load({ DISCORD_TOKEN: 't' })).toThrow(/DISCORD_CHANNEL_ID: required when DISCORD_TOKEN is set/);
    expect(() => load({ HEADWATCH_WEBHOOK_SECRET: 's' })).toThrow(/HEADWATCH_WEBHOOK_URL/);
    expect(() => load({ HEADWATCH_OPERATORS: 'alice' })).toThrow(/HEADWATCH_OPERATORS: must be a comma list of slack:<user id> or discord:<user id>/);
  });

  it('refuses durations without a unit and takes 30s, 5m, 1h', () => {
    expect(() => load({ HEADWATCH_GROUP_WAIT: '30' })).toThrow(/HEADWATCH_GROUP_WAIT: needs a unit: write 30s for seconds or 30m for minutes/);
    expect(() => load({ HEADWATCH_APPROVAL_TTL: 'soon' })).toThrow(/HEADWATCH_APPROVAL_TTL: must be a duration with a unit/);
    const c = load({ HEADWATCH_GROUP_WAIT: '30s', HEADWATCH_GROUP_INTERVAL: '5m', HEADWATCH_REPEAT_INTERVAL: '1h' });
    expect([c.HEADWATCH_GROUP_WAIT, c.HEADWATCH_GROUP_INTERVAL, c.HEADWATCH_REPEAT_INTERVAL]).toEqual([30_000, 300_000, 3_600_000]);
  });

  it('refuses contradictory settings, naming the variables', () => {
    const problems = (env: Record<string, string>) => {
      try {
        load(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_CHANNEL: 'C1' })).toEqual([expect.stringMatching(/^SLACK_SIGNING_SECRET: Slack HTTP mode/)]);
    expect(problems({ SLACK_CHANNEL: 'C1' })).toEqual([expect.stringMatching(/^SLACK_CHANNEL is set but SLACK_BOT_TOKEN is not/)]);
    expect(problems({ DISCORD_CHANNEL_ID: '42' })).toEqual([expect.stringMatching(/^DISCORD_CHANNEL_ID is set but DISCORD_TOKEN is not/)]);
    expect(problems({ HEADWATCH_APPROVERS: 'slack:U1', HEADWATCH_ADMINS: 'slack:U1,discord:9', HEADWATCH_APPROVALS_REQUIRED: '3' })).toEqual([
      expect.stringMatching(/^HEADWATCH_APPROVALS_REQUIRED=3 but only 2 people can approve .*lower HEADWATCH_APPROVALS_REQUIRED to at most 2/),
    ]);
    expect(problems({ HEADWATCH_OPERATORS: 'slack:U1' })).toEqual([expect.stringMatching(/^HEADWATCH_APPROVALS_REQUIRED=1 but only 0 people can approve/)]);
    expect(problems({ HEADWATCH_ROUTES: 'kind=node-flapping->webhook;*->console' })).toEqual([
      expect.stringMatching(/^HEADWATCH_ROUTES: rule 1 .*"webhook", which is not configured \(configured: console\); it is turned on by HEADWATCH_WEBHOOK_URL/),
    ]);
    expect(problems({ CPU_THRESHOLD_PERCENT: '50', CPU_CLEAR_MARGIN_PERCENT: '50' })).toEqual([expect.stringMatching(/^CPU_CLEAR_MARGIN_PERCENT \(50\) must be below CPU_THRESHOLD_PERCENT \(50\)/)]);
    expect(problems({ TAILSCALE_CONTAINERS: 'ts-a,headscale' })).toEqual([expect.stringMatching(/^TAILSCALE_CONTAINERS lists "headscale", which is HEADSCALE_CONTAINER/)]);
    expect(problems({ HEADWATCH_REPEAT_INTERVAL: '1m' })).toEqual([expect.stringMatching(/^HEADWATCH_REPEAT_INTERVAL is shorter than HEADWATCH_GROUP_INTERVAL/)]);
    // Consistent settings pass: no role lists at all, approvals by the default of one.
    expect(problems({ HEADWATCH_OPERATORS: 'slack:U1', HEADWATCH_APPROVERS: 'slack:U2', HEADWATCH_ROUTES: 'severity=critical->console;*->none' })).toEqual([]);
  });

  it('reads the daily report schedule: a 5-field cron expression in a zone, or off; anything else names the variable', () => {
    expect(load({})).toMatchObject({ HEADWATCH_REPORT_CRON: '0 9 * * *', HEADWATCH_REPORT_TZ: 'UTC' });
    expect(load({ HEADWATCH_REPORT_CRON: ' 30  7 * * 1-5 ', HEADWATCH_REPORT_TZ: 'Europe/Berlin' })).toMatchObject({ HEADWATCH_REPORT_CRON: '30 7 * * 1-5', HEADWATCH_REPORT_TZ: 'Europe/Berlin' });
    expect(load({ HEADWATCH_REPORT_CRON: 'OFF' }).HEADWATCH_REPORT_CRON).toBe('off');
    expect(() => load({ HEADWATCH_REPORT_CRON: '0 25 * * *' })).toThrow(/HEADWATCH_REPORT_CRON: must be a cron expression .*25 is a invalid expression for hour/);
    expect(() => load({ HEADWATCH_REPORT_CRON: '*/5 * * * * *' })).toThrow(/HEADWATCH_REPORT_CRON: .*expected 5 fields/);
    expect(() => load({ HEADWATCH_REPORT_TZ: 'Moon/Base' })).toThrow(/HEADWATCH_REPORT_TZ: must be an IANA time zone/);
  });
});
