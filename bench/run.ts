/**
 * `npm run bench`: every speed and memory target of headwatch, measured and printed as figures next to its
 * target. Benchmarks never fail the build; they report. Docker-backed figures need DOCKER_HOST (see .ci/dockerd.sh).
 */
import { benchLogPipeline } from './log-pipeline.js';
import { benchIdleCpu } from './idle-cpu.js';
import { benchAlertLatency } from './alert-latency.js';
import { benchStartup, type StartupFigures } from './startup.js';
import { benchStorm } from './storm.js';
import { benchCommandAck } from './command-ack.js';
import { benchChart } from './chart.js';
import { FlappingDetector } from '../src/detectors/flapping.js';
import { MisconfigDetector } from '../src/detectors/misconfig.js';
import type { Finding } from '../src/parsers/finding.js';
import { parseRules } from '../src/rules/load.js';
import { RuleSet } from '../src/rules/matcher.js';
import { RuleDetector } from '../src/rules/detector.js';

import { BENCH_RULES } from './user-rules.js';

type Row = [name: string, figure: string, target: string];
const rows: Row[] = [];
const only = process.argv.slice(2);
const want = (n: string) => only.length === 0 || only.includes(n);

async function step(name: string, fn: () => Promise<Row[]>): Promise<void> {
  if (!want(name)) return;
  process.stderr.write(`[bench] ${name}…\n`);
  try {
    rows.push(...(await fn()));
  } catch (err) {
    rows.push([name, `FAILED: ${(err as Error).message}`, '']);
  }
}

await step('log-pipeline', async () => {
  const detectors = [new FlappingDetector({ count: 6, windowMs: 300_000 }), new MisconfigDetector()];
  const sink = (f: Finding) => {
    for (const d of detectors) d.observe(f);
  };
  const r = await benchLogPipeline({ lines: 1_000_000, sink });
  return [
    ['log pipeline: raw line split baseline', `${Math.round(r.baselineLinesPerSec).toLocaleString('en-US')} lines/s`, ''],
    ['log pipeline: split + parse + detect', `${Math.round(r.pipelineLinesPerSec).toLocaleString('en-US')} lines/s (${(r.ratio * 100).toFixed(1)} % of baseline)`, '≥ 25 % of baseline'],
    ['log pipeline: RSS after 1M lines', `${r.rssMb.toFixed(1)} MB`, 'bounded'],
  ];
});
await step('log-pipeline-rules', async () => {
  const rules = parseRules(BENCH_RULES, 'bench rules');
  const detectors = [new FlappingDetector({ count: 6, windowMs: 300_000 }), new MisconfigDetector(), new RuleDetector(rules)];
  const sink = (f: Finding) => {
    for (const d of detectors) d.observe(f);
  };
  const r = await benchLogPipeline({ lines: 1_000_000, sink, rules: new RuleSet(rules) });
  return [
    ['log pipeline with 20 user rules: raw split baseline', `${Math.round(r.baselineLinesPerSec).toLocaleString('en-US')} lines/s`, ''],
    [
      'log pipeline with 20 user rules (all on this container)',
      `${Math.round(r.pipelineLinesPerSec).toLocaleString('en-US')} lines/s (${(r.ratio * 100).toFixed(1)} % of baseline)`,
      '≥ 25 % of baseline',
    ],
  ];
});
await step('startup', async () => {
  const idle = await benchStartup();
  const chat = await benchStartup({ chat: true });
  const cpu = (r: StartupFigures) => `(CPU ${r.cpuToReadyMs} ms; median of ${r.runs})`;
  return [
    ['start to ready (/readyz 200), compiled runtime, defaults', `${idle.startToReadyMs} ms ${cpu(idle)}`, '≤ 800 ms'],
    ['idle RSS, defaults (console, SQLite, local Docker)', `${idle.idleRssMb} MB`, '≤ 80 MB'],
    ['start to ready, Slack + Discord connected (local fakes)', `${chat.startToReadyMs} ms ${cpu(chat)}`, ''],
    ['idle RSS, Slack + Discord connected', `${chat.idleRssMb} MB`, '≤ 120 MB'],
  ];
});
await step('alert-latency', async () => {
  const r = await benchAlertLatency();
  return [['log line → webhook (immediate rule)', `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (n=${r.samples})`, 'p99 ≤ 250 ms']];
});
await step('idle-cpu', async () => {
  const r = await benchIdleCpu({});
  return [['machine CPU, 50 idle containers watched', `baseline ${r.baselineCorePct.toFixed(2)} %, with headwatch ${r.withHeadwatchCorePct.toFixed(2)} % → overhead ${r.overheadCorePct.toFixed(2)} % of one core`, '≤ 1 % of one core']];
});
await step('storm', async () => {
  const r = await benchStorm();
  return [['storm: 10,000 nodes flapping 5 min', `${r.alerts} alerts → ${r.posts} posts, ${r.edits} edits (2 channels); RSS +${r.rssGrowthMb.toFixed(1)} MB during the storm (peak ${r.rssMb.toFixed(1)} MB)`, '≤ 1 post + 1 edit per group interval per channel']];
});
await step('command-ack', async () => {
  const r = await benchCommandAck();
  return [['slash command → acknowledgement (Headscale answering after 5 s)', `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (n=${r.n})`, 'p99 ≤ 300 ms']];
});
await step('chart', async () => {
  const r = await benchChart();
  return [['CPU chart PNG (15 min, 90 samples) render + encode', `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (n=${r.n}); ${r.width}×${r.height}, ${(r.bytes / 1024).toFixed(1)} KiB`, 'off the event loop; never blocks an alert']];
});

const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`\n${'benchmark'.padEnd(w0)}  ${'figure'.padEnd(w1)}  target`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
process.exit(0);
