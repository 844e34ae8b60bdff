import { OPENAPI_030, PROBLEM_CONTENT_TYPE } from './openapi-030.js';

/**
 * How the fake answers as Headscale 0.30 (main @f20f1f12): errors become RFC 7807 problems with the statuses
 * `mapError` / the handlers choose (hscontrol/api/v1/errors.go, nodes.go, users.go, preauthkeys.go), where
 * ≤ 0.29's grpc-gateway said 500. The ≤ 0.29 handler code of the fake stays the single behaviour; this
 * module translates its error answers.
 */

export interface Problem {
  status: number;
  body: { title: string; status: number; detail: string; errors?: Array<{ message: string }> };
}

const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 500: 'Internal Server Error' };

export function problem(status: number, detail: string, reason?: string): Problem {
  return { status, body: { title: TITLES[status] ?? 'Error', status, detail, ...(reason ? { errors: [{ message: reason }] } : {}) } };
}

/** The `msg` each 0.30 handler passes to mapError: Huma puts it in `detail`, the cause in `errors[0].message`. */
function doing(method: string, route: string): string {
  const key = `${method} ${route}`;
  const table: Record<string, string> = {
    'GET /api/v1/node': 'listing nodes',
    'POST /api/v1/node/{nodeId}/expire': 'expiring node',
    'POST /api/v1/user': 'creating user',
    'DELETE /api/v1/user/{id}': 'deleting user',
    'POST /api/v1/preauthkey': 'creating pre-auth key',
    'POST /api/v1/preauthkey/expire': 'expiring pre-auth key',
    'DELETE /api/v1/preauthkey': 'deleting pre-auth key',
    'GET /api/v1/health': 'pinging database',
  };
  return table[key] ?? 'handling request';
}

/** A ≤ 0.29 grpc-gateway error answer of the fake, as 0.30 gives it. */
export function toProblem(method: string, route: string | undefined, status: number, message: string): Problem {
  if (message === 'Method Not Allowed') return problem(405, 'Method Not Allowed');
  if (message === 'Not Found') return problem(404, 'Not Found');
  if (/^type mismatch|^invalid character/.test(message) || message.startsWith('tag ')) return problem(400, message.startsWith('tag ') ? 'invalid tag' : message, message.startsWith('tag ') ? message : undefined);
  if (message === 'cannot set both disable_expiry and expiry') return problem(400, message);
  if (message === 'node not found' && route !== '/api/v1/node/{nodeId}/expire') return problem(404, 'node not found');
  const what = route ? doing(method, route) : 'handling request';
  if (/not found|no longer exists/i.test(message)) return problem(404, what, /node/.test(message) ? 'node not found' : /user/.test(message) ? 'user not found' : message);
  if (message === 'user already exists') return problem(409, 'user already exists');
  if (/tagged or owned|still has nodes|has been used/.test(message)) return problem(400, what, message);
  return problem(status >= 500 ? 500 : status, what, message);
}

/** `/api/v1/openapi.yaml`: a document naming only the operations and facts the fake implements. */
export function openapiYaml(): string {
  const lines = ['openapi: 3.1.0', 'info:', '  title: Headscale API', '  version: v1', 'paths:'];
  for (const [path, ops] of Object.entries(OPENAPI_030.paths)) {
    lines.push(`  ${path}:`);
    for (const method of Object.keys(ops)) lines.push(`    ${method}:`, '      responses:', '        "200": {}', `        default: {content: {${PROBLEM_CONTENT_TYPE}: {}}}`);
  }
  return `${lines.join('\n')}\n`;
}
