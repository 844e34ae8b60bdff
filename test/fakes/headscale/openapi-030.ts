import type { SwaggerDoc, SwaggerSchema } from './swagger-check.js';

/**
 * Facts about Headscale 0.30's v1 API (unreleased, main @f20f1f12), read from the Huma definitions its
 * OpenAPI 3.1 document is generated from (`hscontrol/api/v1/{nodes,users,preauthkeys,health,policy,errors,api}.go`,
 * Huma v2.38 `error.go`) — the document itself is served at runtime (/api/v1/openapi.yaml) and not committed
 * upstream. Only what the contract test needs is encoded here, in the same mini-schema form the Swagger
 * checker reads, so the same walker checks 0.30 bodies:
 *
 * - response fields carry no `omitempty` ("zero values are emitted"), so every property is required;
 * - `*time.Time` fields with `nullable:"true"` are `["string","null"]` date-times; PreAuthKey `expiration`
 *   and `createdAt` are plain `time.Time` (always a date-time, zero-stamped when unset);
 * - `*User` / `*NodePreAuthKey` are $refs that Huma cannot mark nullable, but the handlers emit `null`
 *   (tagged nodes' keys); the walker treats a $ref object as nullable, as protobuf messages were;
 * - IDs are `format: uint64` decimal strings;
 * - every error is an RFC 7807 ErrorModel sent as `application/problem+json`.
 */

const s = (format?: string): SwaggerSchema => (format ? { type: 'string', format } : { type: 'string' });
const arr = (items: SwaggerSchema): SwaggerSchema => ({ type: 'array', items });
const ref = (name: string): SwaggerSchema => ({ $ref: `#/definitions/${name}` });
const obj = (properties: Record<string, SwaggerSchema>): SwaggerSchema => ({ type: 'object', properties });

const definitions: Record<string, SwaggerSchema> = {
  User: obj({ id: s('uint64'), name: s(), createdAt: s('date-time'), displayName: s(), email: s(), providerId: s(), provider: s(), profilePicUrl: s() }),
  NodePreAuthKey: obj({
    user: ref('User'),
    id: s('uint64'),
    key: s(),
    reusable: { type: 'boolean' },
    ephemeral: { type: 'boolean' },
    used: { type: 'boolean' },
    expiration: { type: 'string', format: 'date-time', nullable: true },
    createdAt: { type: 'string', format: 'date-time', nullable: true },
    aclTags: arr(s()),
  }),
  Node: obj({
    id: s('uint64'),
    machineKey: s(),
    nodeKey: s(),
    discoKey: s(),
    ipAddresses: arr(s()),
    name: s(),
    user: ref('User'),
    lastSeen: { type: 'string', format: 'date-time', nullable: true },
    expiry: { type: 'string', format: 'date-time', nullable: true },
    preAuthKey: ref('NodePreAuthKey'),
    createdAt: s('date-time'),
    registerMethod: { type: 'string', enum: ['REGISTER_METHOD_UNSPECIFIED', 'REGISTER_METHOD_AUTH_KEY', 'REGISTER_METHOD_CLI', 'REGISTER_METHOD_OIDC'] },
    givenName: s(),
    online: { type: 'boolean' },
    approvedRoutes: arr(s()),
    availableRoutes: arr(s()),
    subnetRoutes: arr(s()),
    tags: arr(s()),
  }),
  PreAuthKey: obj({
    user: ref('User'),
    id: s('uint64'),
    key: s(),
    reusable: { type: 'boolean' },
    ephemeral: { type: 'boolean' },
    used: { type: 'boolean' },
    expiration: s('date-time'),
    createdAt: s('date-time'),
    aclTags: arr(s()),
  }),
  ErrorDetail: { type: 'object', properties: { message: s(), location: s(), value: {} }, optional: ['message', 'location', 'value'] },
  ErrorModel: {
    type: 'object',
    properties: { type: s(), title: s(), status: { type: 'integer' }, detail: s(), instance: s(), errors: arr(ref('ErrorDetail')) },
    optional: ['type', 'title', 'status', 'detail', 'instance', 'errors'],
  },
  NodeBody: obj({ node: ref('Node') }),
  NodesBody: obj({ nodes: arr(ref('Node')) }),
  UserBody: obj({ user: ref('User') }),
  UsersBody: obj({ users: arr(ref('User')) }),
  PreAuthKeyBody: obj({ preAuthKey: ref('PreAuthKey') }),
  PreAuthKeysBody: obj({ preAuthKeys: arr(ref('PreAuthKey')) }),
  HealthBody: obj({ databaseConnectivity: { type: 'boolean' } }),
  PolicyBody: obj({ policy: s(), updatedAt: s('date-time') }),
  Empty: obj({}),
};

const op = (body: string, query: string[] = [], requestBody?: SwaggerSchema) => ({
  parameters: [
    ...query.map((name) => ({ name, in: 'query' as const, type: name === 'id' ? 'string' : 'string', ...(name === 'id' ? { format: 'uint64' } : {}) })),
    ...(requestBody ? [{ name: 'body', in: 'body' as const, schema: requestBody }] : []),
  ],
  responses: { '200': { schema: ref(body) }, default: { schema: ref('ErrorModel') } },
});

/** The v1 operations the fake serves, with their success bodies (every one also answers `default` ErrorModel). */
export const OPENAPI_030: SwaggerDoc = {
  definitions,
  paths: {
    '/api/v1/health': { get: op('HealthBody') },
    '/api/v1/policy': { get: op('PolicyBody') },
    '/api/v1/node': { get: op('NodesBody', ['user']) },
    '/api/v1/node/{nodeId}': { get: op('NodeBody'), delete: op('Empty') },
    '/api/v1/node/{nodeId}/expire': {
      post: op('NodeBody', [], { type: 'object', properties: { expiry: s('date-time'), disableExpiry: { type: 'boolean' } }, optional: ['expiry', 'disableExpiry'] }),
    },
    '/api/v1/user': {
      get: op('UsersBody', ['id', 'name', 'email']),
      post: op('UserBody', [], { type: 'object', properties: { name: s(), displayName: s(), email: s(), pictureUrl: s() }, optional: ['name', 'displayName', 'email', 'pictureUrl'] }),
    },
    '/api/v1/user/{id}': { delete: op('Empty') },
    '/api/v1/preauthkey': {
      get: op('PreAuthKeysBody'),
      post: op('PreAuthKeyBody', [], {
        type: 'object',
        properties: { user: s('uint64'), reusable: { type: 'boolean' }, ephemeral: { type: 'boolean' }, expiration: s('date-time'), aclTags: arr(s()) },
        optional: ['user', 'reusable', 'ephemeral', 'expiration', 'aclTags'],
      }),
      delete: op('Empty', ['id']),
    },
    '/api/v1/preauthkey/expire': { post: op('Empty', [], { type: 'object', properties: { id: s('uint64') }, optional: ['id'] }) },
  },
};

/** Error statuses 0.30 answers where ≤ 0.29 said 500 (mapError in hscontrol/api/v1/errors.go). */
export const STATUS_030 = { notFound: 404, invalid: 400, conflict: 409, unauthorized: 401 } as const;
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
