export * from './types.js';
export { HeadscaleClient, type HeadscaleClientOptions } from './client.js';
export { HeadscalePoller, API_ORIGIN, type HeadscalePollerOptions, type PollerStatus } from './poller.js';
export { VersionProbe, parseTailscaleVersion, type VersionProbeOptions } from './version-probe.js';
