import type { Config } from '../config/schema.js';
import type { Insights } from '../insights.js';
import type { Detector } from './detector.js';
import { FlappingDetector } from './flapping.js';
import { CpuDetector } from './cpu.js';
import { RateLimitDetector } from './ratelimit.js';
import { MisconfigDetector } from './misconfig.js';
import { SkewDetector } from './skew.js';
import { ExpiryDetector } from './expiry.js';
import { ReachabilityDetector } from './reachability.js';
import { InventoryDetector } from './inventory.js';
import { DockerReachabilityDetector } from './docker-reachability.js';
import { ContainerLifecycleDetector } from './containers.js';
import { TlsDetector } from './tls.js';
import { AuthRejectedDetector } from './auth.js';
import { ApiKeyDetector } from './api-keys.js';
import { ControlPathDetector } from './control-path.js';
import { MapStreamDetector } from './map-stream.js';
import { MapStormDetector } from './map-storm.js';

/** Every detector, configured; the flapping detector is also asked by `/headscale nodes` for flap counts. */
export function buildDetectors(config: Config, insights: Insights): { detectors: Detector[]; flapping: FlappingDetector } {
  const flapping = new FlappingDetector({
    count: config.FLAP_COUNT,
    windowMs: config.FLAP_WINDOW_SECONDS * 1000,
    // Counted transitions (log and API sightings of one change merged) feed the daily report's flap ranking.
    onTransitions: (id, name, at, n) => insights.recorder.nodeTransitions(id, name, at, n),
  });
  const detectors: Detector[] = [
    flapping,
    new CpuDetector({
      thresholdPercent: config.CPU_THRESHOLD_PERCENT,
      sustainMs: config.CPU_SUSTAIN_SECONDS * 1000,
      clearMarginPercent: config.CPU_CLEAR_MARGIN_PERCENT,
      maxGapMs: config.CPU_SAMPLE_SECONDS * 3000 + 2000,
      recent: (c, now) => insights.history.window(c, now - 15 * 60_000, now),
    }),
    new RateLimitDetector({ count: config.RATELIMIT_COUNT, windowMs: config.RATELIMIT_WINDOW_SECONDS * 1000 }),
    new MisconfigDetector({ quietMs: config.HEADWATCH_MISCONFIG_QUIET }),
    new SkewDetector({ aheadMarginMinors: 4 }),
    new ExpiryDetector({ warnMs: config.HEADSCALE_EXPIRY_WARN_HOURS * 3_600_000 }),
    new InventoryDetector({ noticeMs: 600_000 }),
    new DockerReachabilityDetector(),
    new ContainerLifecycleDetector({
      missingMs: config.CONTAINER_MISSING_SECONDS * 1000,
      downMs: config.CONTAINER_DOWN_SECONDS * 1000,
      restartCount: config.CONTAINER_RESTART_COUNT,
      restartWindowMs: config.CONTAINER_RESTART_WINDOW_SECONDS * 1000,
    }),
    new TlsDetector(),
    new AuthRejectedDetector(),
    new ApiKeyDetector(),
    new ControlPathDetector(),
    new MapStreamDetector(),
    new MapStormDetector({ perNodePerMinute: config.MAP_STORM_RATE, sustainMs: config.MAP_STORM_SUSTAIN_SECONDS * 1000 }),
  ];
  // Without an API key there is no API to poll: reachability would only ever report "unauthorized".
  if (config.HEADSCALE_API_KEY) detectors.push(new ReachabilityDetector({ failuresToFire: 2 }));
  return { detectors, flapping };
}
