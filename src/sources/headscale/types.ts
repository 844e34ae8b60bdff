/**
 * One interface to every Headscale release 0.22–0.30. Implemented by the REST client in this folder; used by
 * the poller, the version-skew detector, commands and actions. IDs are strings; `null` expiry means "never"
 * (the client maps year-1 expiries to null).
 */
export interface HsUser {
  id: string;
  name: string;
}

export interface HsNode {
  id: string;
  /** Hostname reported by the client. */
  name: string;
  /** MagicDNS name. */
  givenName: string;
  user: HsUser | null;
  online: boolean;
  lastSeen: string | null;
  expiry: string | null;
  createdAt: string | null;
  ipAddresses: string[];
  tags: string[];
}

export interface HsPreAuthKey {
  id: string;
  /** Full secret only in the answer to create; masked or legacy plaintext in lists. Never log it. */
  key: string;
  user: HsUser | null;
  reusable: boolean;
  ephemeral: boolean;
  used: boolean;
  expiration: string | null;
  createdAt: string | null;
  aclTags: string[];
}

export interface CreatePreAuthKeyInput {
  /** User name as operators type it; the client resolves it to an id where the release wants one. */
  user?: string;
  reusable: boolean;
  ephemeral: boolean;
  /** Always sent: an omitted expiration makes Headscale store year 1, i.e. an already expired key. */
  expiration: Date;
  tags: string[];
}

export interface ServerInfo {
  /** e.g. `0.29.2`; `0.22` / `0.23-0.26` style ranges when only probing could tell. */
  version: string;
  /** Minor release line used to pick API shapes, e.g. `0.29`. */
  release: string;
  detectedBy: 'version-endpoint' | 'probe' | 'log' | 'config';
  /** Set when the server is outside what headwatch knows: "0.31 is newer than headwatch knows; using the 0.30 API". */
  note?: string;
  /** Where the server documents its API: `/swagger` (≤ 0.29) or `/api/v1/docs` (0.30, spec at /api/v1/openapi.yaml). */
  apiDocs?: string;
}

export type HeadscaleErrorCode =
  | 'unreachable'
  | 'timeout'
  | 'unauthorized'
  | 'not-found'
  | 'rejected'
  | 'conflict'
  | 'server-error'
  | 'unsupported';

/** Every failure of the client is one of these, with a message an operator can act on. */
export class HeadscaleError extends Error {
  constructor(
    readonly code: HeadscaleErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HeadscaleError';
  }
}

export interface HsPolicy {
  /** HuJSON text as stored. */
  policy: string;
  updatedAt: string | null;
}

export interface HeadscaleApi {
  /** Detected once and cached; a failed detection is retried on the next call. */
  serverInfo(): Promise<ServerInfo>;
  /** Forgets the cached detection and detects again (after an outage the server may have been upgraded). */
  refreshServerInfo?(): Promise<ServerInfo>;
  health(): Promise<{ ok: boolean; databaseConnectivity?: boolean }>;
  listNodes(user?: string): Promise<HsNode[]>;
  getNode(id: string): Promise<HsNode>;
  deleteNode(id: string): Promise<void>;
  expireNode(id: string): Promise<HsNode>;
  listUsers(): Promise<HsUser[]>;
  createPreAuthKey(input: CreatePreAuthKeyInput): Promise<HsPreAuthKey>;
  listPreAuthKeys(user?: string): Promise<HsPreAuthKey[]>;
  expirePreAuthKey(key: Pick<HsPreAuthKey, 'id' | 'key' | 'user'>): Promise<void>;
  /** The ACL policy; undefined on releases without the policy API (0.22). Optional for stand-ins. */
  getPolicy?(): Promise<HsPolicy | undefined>;
}
