import { DeliveryError } from '../../destinations/destination.js';

/** Slack Web API failures → DeliveryError with a message an operator can act on (never the token). */

const TRANSIENT = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
const AUTH = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type']);

interface SlackLikeError {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string };
  original?: { message?: string };
  message?: string;
}

export function slackDeliveryError(err: unknown, what: string): DeliveryError {
  const e = (err ?? {}) as SlackLikeError;
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': {
      const sec = typeof e.retryAfter === 'number' ? e.retryAfter : 1;
      return new DeliveryError(`Slack rate-limited ${what}; retrying after ${sec} s`, true, sec * 1000);
    }
    case 'slack_webapi_platform_error': {
      const code = e.data?.error ?? 'unknown_error';
      if (TRANSIENT.has(code)) return new DeliveryError(`Slack answered ${code} to ${what}; will retry`, true, undefined, true);
      if (AUTH.has(code)) return new DeliveryError(`Slack rejected SLACK_BOT_TOKEN (${code}) for ${what}: check the token and the app's installation`, false);
      if (code === 'channel_not_found' || code === 'not_in_channel' || code === 'is_archived') {
        return new DeliveryError(`Slack cannot ${what} (${code}): check SLACK_CHANNEL (a channel id such as C0123…) and invite the bot with /invite`, false);
      }
      if (code === 'missing_scope') return new DeliveryError(`Slack refused ${what}: the app lacks a scope (missing_scope); add chat:write and reinstall`, false);
      return new DeliveryError(`Slack refused ${what} (${code})`, false);
    }
    case 'slack_webapi_http_error': {
      const status = e.statusCode ?? 0;
      if (status >= 500 || status === 408) return new DeliveryError(`Slack answered HTTP ${status} to ${what}; will retry`, true, undefined, true);
      return new DeliveryError(`Slack answered HTTP ${status} to ${what}`, false);
    }
    case 'slack_webapi_request_error':
      return new DeliveryError(`could not reach Slack to ${what} (${e.original?.message ?? 'network error'}); will retry`, true, undefined, true);
    default:
      return new DeliveryError(`Slack call failed (${what}): ${e.message ?? String(err)}`, true, undefined, true);
  }
}

/** True when the failure says Slack itself could not be reached (not a refusal). */
export function isConnectivityError(err: unknown): boolean {
  const e = (err ?? {}) as SlackLikeError;
  return e.code === 'slack_webapi_request_error' || (e.code === 'slack_webapi_http_error' && (e.statusCode ?? 0) >= 500);
}
