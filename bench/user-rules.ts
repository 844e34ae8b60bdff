/**
 * 20 user rules that all apply to the benched (headscale) container — the worst case: substrings and RE2
 * patterns of the kinds users write (errors, panics, database trouble), one of which matches the bench's
 * stale-connection lines so matches, groups and the rule detector are exercised too.
 */
const RULES: Array<[name: string, match: string]> = [
  ['db-locked', "regex: 'database is locked \\((\\w+)\\)'"],
  ['panic', 'match: "panic: "'],
  ['oom', 'match: out of memory'],
  ['disk-full', 'match: no space left on device'],
  ['fd-limit', 'match: too many open files'],
  ['readonly-fs', 'match: read-only file system'],
  ['sql-closed', "regex: 'sql: database is closed'"],
  ['deadlock', 'match: deadlock detected'],
  ['cert-expired', "regex: 'certificate has expired (\\w+)'"],
  ['acme', "regex: 'acme request (failed|returned error)'"],
  ['dns', "regex: 'lookup ([\\w.-]+): no such host'"],
  ['refused', 'match: connection refused'],
  ['timeout', "regex: 'context deadline exceeded after (\\d+)'"],
  ['stale', "regex: 'connection (\\w+): timeout sending to channel'"],
  ['policy', 'match: failed to load ACL policy'],
  ['derp', "regex: 'DERP region (\\d+) unreachable'"],
  ['migration', 'match: migration failed'],
  ['noise', 'match: noise handshake failed'],
  ['oidc', "regex: 'OIDC provider ([\\w.-]+) unreachable'"],
  ['shutdown', 'match: Received signal to stop'],
];

export const BENCH_RULES = `rules:\n${RULES.map(([name, m]) => `  - name: ${name}\n    containers: [headscale]\n    ${m}\n    count: 5\n    window: 5m`).join('\n')}\n`;
