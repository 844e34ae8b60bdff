/**
 * One event in the body of a Tailscale webhook (tailscale/tailscale docs/webhooks/example.go): a POST body is
 * a JSON array of these, `data` a map of strings. headwatch emits the same shape for Headscale so receivers
 * written for Tailscale work unchanged.
 */
export interface TailnetEvent {
  /** RFC 3339. */
  timestamp: string;
  version: 1;
  type: TailnetEventType;
  tailnet: string;
  message: string;
  data: Record<string, string>;
}

export const TAILNET_EVENT_TYPES = [
  // Tailscale's own names (tailnet management category) that Headscale's API lets us observe.
  'nodeCreated',
  'nodeDeleted',
  'nodeKeyExpiringInOneDay',
  'nodeKeyExpired',
  'policyUpdate',
  // Asked of Tailscale and not offered there (tailscale/tailscale#5967, #11166, #8351): debounced.
  'nodeConnected',
  'nodeDisconnected',
] as const;

export type TailnetEventType = (typeof TAILNET_EVENT_TYPES)[number];
