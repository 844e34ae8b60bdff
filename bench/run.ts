/**
 * `npm run bench`: every speed and memory target of headwatch, measured and printed as figures next to its
 * target with a verdict (met / MISSED / too noisy). Benchmarks never fail the build; they report.
 * Docker-backed figures need DOCKER_HOST (see .ci/dockerd.sh). `npm run bench -- idle-cpu storm` runs only those.
 */
import { benchLogPipeline } from './log-pipeline.js';
import { benchIdleCpu } from './idle-cpu.js';
import { benchAlertLatency } from './alert-latency.js';
import { benchStartup, type StartupFigures } from './startup.js';
import { benchStorm } from './storm.js';
import { benchCommandAck } from './command-ack.js';
import { benchChart } from './chart.js';
import { benchIncident } from './incident-scenario.js';
import { benchTakeover, p50max } from './takeover.js';
import { benchHostsPoll } from './hosts-poll.js';
import { availableParallelism } from 'node:os';
import { checked, info, overheadRow, table, type Row } from './report.js';
import { FlappingDetector } from '../src/detectors/flapping.js';
import { MisconfigDetector } from '../src/detectors/misconfig.js';
import type { Finding } from '../src/parsers/finding.js';
import { parseRules } from '../src/rules/load.js';
import { RuleSet } from '../src/rules/matcher.js';
import { RuleDetector } from '../src/rules/detector.js';
import { BENCH_RULES } from './user-rules.js';

interface Step {
  name: string;
  /** Typical wall time on a 2-core CI machine, said up front so nobody wonders whether it hangs. */
  about: string;
  what: string;
  run: () => Promise<Row[]>;
}

const IDLE_CONTAINERS = 50;

const steps: Step[] = [
  {
    name: 'log-pipeline',
    about: '~30 s',
    what: '1,000,000 generated Headscale lines through the parser and detectors',
    run: async () => {
      const detectors = [new FlappingDetector({ count: 6, windowMs: 300_000 }), new MisconfigDetector()];
      const sink = (f: Finding) => {
        for (const d of detectors) d.observe(f);
      };
      const r = await benchLogPipeline({ lines: 1_000_000, sink, print: false });
      return [
        info('log pipeline: raw line split baseline', `${Math.round(r.baselineLinesPerSec).toLocaleString('en-US')} lines/s`),
        checked('log pipeline: split + parse + detect', `${Math.round(r.pipelineLinesPerSec).toLocaleString('en-US')} lines/s (${(r.ratio * 100).toFixed(1)} % of baseline)`, r.ratio, '≥', 0.25, '≥ 25 % of baseline'),
        info('log pipeline: the same ratio by CPU time', `${(r.cpuRatio * 100).toFixed(1)} % (wall time also counts other processes on a shared machine)`),
        info('log pipeline fed one line a push (as the Docker source feeds it)', `${Math.round(r.framesLinesPerSec).toLocaleString('en-US')} lines/s`),
        info('log pipeline: RSS after 1M lines', `${r.rssMb.toFixed(1)} MB`),
      ];
    },
  },
  {
    name: 'log-pipeline-rules',
    about: '~30 s',
    what: 'the same 1,000,000 lines with 20 user log rules loaded',
    run: async () => {
      const rules = parseRules(BENCH_RULES, 'bench rules');
      const detectors = [new FlappingDetector({ count: 6, windowMs: 300_000 }), new MisconfigDetector(), new RuleDetector(rules)];
      const sink = (f: Finding) => {
        for (const d of detectors) d.observe(f);
      };
      const r = await benchLogPipeline({ lines: 1_000_000, sink, rules: new RuleSet(rules), print: false });
      return [
        info('log pipeline with 20 user rules: raw split baseline', `${Math.round(r.baselineLinesPerSec).toLocaleString('en-US')} lines/s`),
        checked(
          'log pipeline with 20 user rules (all on this container)',
          `${Math.round(r.pipelineLinesPerSec).toLocaleString('en-US')} lines/s (${(r.ratio * 100).toFixed(1)} % of baseline)`,
          r.ratio,
          '≥',
          0.25,
          '≥ 25 % of baseline',
        ),
        info('log pipeline with 20 user rules: the same ratio by CPU time', `${(r.cpuRatio * 100).toFixed(1)} %`),
        info('log pipeline with 20 user rules, fed one line a push', `${Math.round(r.framesLinesPerSec).toLocaleString('en-US')} lines/s`),
      ];
    },
  },
  {
    name: 'startup',
    about: '~1–2 min',
    what: 'the compiled runtime started as a separate process several times (defaults, then Slack + Discord on local fakes), timed to /readyz, then idle',
    run: async () => {
      const idle = await benchStartup();
      const chat = await benchStartup({ chat: true });
      const cpu = (r: StartupFigures) => `(CPU ${r.cpuToReadyMs} ms; median of ${r.runs})`;
      return [
        checked('start to ready (/readyz 200), compiled runtime, defaults', `${idle.startToReadyMs} ms ${cpu(idle)}`, idle.startToReadyMs, '≤', 800, '≤ 800 ms'),
        checked('idle RSS, defaults (console, SQLite, local Docker)', `${idle.idleRssMb} MB`, idle.idleRssMb, '≤', 80, '≤ 80 MB'),
        info('start to ready, Slack + Discord connected (local fakes)', `${chat.startToReadyMs} ms ${cpu(chat)}`),
        checked('idle RSS, Slack + Discord connected', `${chat.idleRssMb} MB`, chat.idleRssMb, '≤', 120, '≤ 120 MB'),
      ];
    },
  },
  {
    name: 'alert-latency',
    about: '~20 s',
    what: 'one container; 60 log lines, each timed to the webhook',
    run: async () => {
      const r = await benchAlertLatency();
      return [checked('log line → webhook (immediate rule)', `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (n=${r.samples})`, r.p99Ms, '≤', 250, 'p99 ≤ 250 ms')];
    },
  },
  {
    name: 'idle-cpu',
    about: '~3–4 min',
    what: `starts ${IDLE_CONTAINERS} idle containers on the engine (removed afterwards), measures 30 s without and 30 s with headwatch watching them`,
    run: async () => {
      const r = await benchIdleCpu({ containers: IDLE_CONTAINERS });
      const detail = `${r.containers} idle containers, CPU via ${r.cpuVia}, samples every ${r.cpuSampleSeconds} s`;
      const rows = [
        overheadRow('idle CPU overhead, whole machine', {
          overheadPct: r.overheadCorePct,
          noisePct: r.baselineNoiseCorePct,
          limitPct: 1,
          detail: `${r.baselineCorePct.toFixed(2)} % → ${r.withHeadwatchCorePct.toFixed(2)} %; ${detail}`,
          baselinePct: r.baselineCorePct,
          capacityPct: availableParallelism() * 100,
        }),
      ];
      if (r.attributedOverheadCorePct !== undefined && r.attributedNoiseCorePct !== undefined) {
        rows.push(
          overheadRow('idle CPU overhead, engine + headwatch processes', {
            overheadPct: r.attributedOverheadCorePct,
            noisePct: r.attributedNoiseCorePct,
            limitPct: 1,
            detail: `${r.attributedBaselineCorePct?.toFixed(2)} % → ${r.attributedWithHeadwatchCorePct?.toFixed(2)} %; headwatch itself ${r.headwatchProcessCorePct.toFixed(2)} %`,
          }),
        );
      }
      return rows;
    },
  },
  {
    name: 'hosts-poll',
    about: '~2 min',
    what: 'starts 150 idle containers (removed afterwards), watched as 3 Docker hosts × 50 (three pipelines to the engine), every container sampled through the stats API each poll',
    run: async () => {
      const r = await benchHostsPoll();
      const detail = `${r.hosts} hosts × ${r.containersPerHost} containers, ${r.polls} polls, one every ${r.intervalSeconds} s per host`;
      return [
        checked('CPU poll per host: wall time', `${r.wallMsPerPoll} ms mean (slowest host ${r.slowestHostWallMs} ms); ${detail}`, r.slowestHostWallMs, '≤', 2000, '≤ 2 s (well inside the 10 s default interval)'),
        checked('CPU poll per host: headwatch CPU', `${r.cpuMsPerPoll} ms per poll per host`, r.cpuMsPerPoll, '≤', 100, '≤ 100 ms (1 % of a core per host at 10 s)'),
      ];
    },
  },
  {
    name: 'storm',
    about: '~2–6 min',
    what: '10,000 nodes flapping for 5 simulated minutes through the real dispatcher, Slack and Discord fakes',
    run: async () => {
      const r = await benchStorm();
      const worst = Math.max(r.maxPostsPerInterval, r.maxEditsPerInterval);
      return [
        checked(
          'storm: 10,000 nodes flapping 5 min',
          `${r.alerts} alerts → ${r.posts} posts, ${r.edits} edits (2 channels); at most ${r.maxPostsPerInterval} post(s) and ${r.maxEditsPerInterval} edit(s) per interval`,
          worst,
          '≤',
          1,
          '≤ 1 post + 1 edit per group interval per channel',
        ),
        info('storm: RSS growth during the storm', `+${r.rssGrowthMb.toFixed(1)} MB (peak ${r.rssMb.toFixed(1)} MB)`),
      ];
    },
  },
  {
    name: 'incident',
    about: '~40 s',
    what: 'the seed failure on the real engine (flapping node, busy tailscale container, 1.84 client vs Headscale 0.23) through Bolt and discord.js: time to one incident, Re-register Approve → node online',
    run: async () => {
      const r = await benchIncident();
      return [
        checked('incident: first flap → incident message', `${(r.timeToIncidentMs / 1000).toFixed(1)} s (all 4 alerts in it after ${(r.timeToFullIncidentMs / 1000).toFixed(1)} s)`, r.timeToIncidentMs, '≤', 60_000, '≤ 60 s'),
        checked('incident: Approve → node online (new id)', `${(r.approveToOnlineMs / 1000).toFixed(1)} s`, r.approveToOnlineMs, '≤', 30_000, '≤ 30 s (fake Headscale registers the node as soon as tailscale up ran)'),
      ];
    },
  },
  {
    name: 'takeover',
    about: '~2 min',
    what: 'three replicas on PostgreSQL with the default lease (10 s / 3 s), the leader SIGKILLed 5 times: time to a new leader and to its first delivery',
    run: async () => {
      const r = await benchTakeover();
      const flip = p50max(r.roleFlipMs);
      const delivery = p50max(r.firstDeliveryMs);
      const rounds = `${r.rounds} SIGKILL rounds, lease TTL ${r.ttlMs / 1000} s, renew ${r.renewMs / 1000} s`;
      return [
        checked('leader takeover: SIGKILL → another replica leads', `p50 ${(flip.p50 / 1000).toFixed(1)} s, max ${(flip.max / 1000).toFixed(1)} s (${rounds})`, flip.max, '≤', 15_000, 'max ≤ 15 s'),
        checked('leader takeover: SIGKILL → new leader\'s first delivery', `p50 ${(delivery.p50 / 1000).toFixed(1)} s, max ${(delivery.max / 1000).toFixed(1)} s (a node joined right after the kill, at the webhook)`, delivery.max, '≤', 15_000, 'max ≤ 15 s'),
      ];
    },
  },
  {
    name: 'command-ack',
    about: '~15 s',
    what: '300 slash commands while a fake Headscale answers after 5 s',
    run: async () => {
      const r = await benchCommandAck();
      return [checked('slash command → acknowledgement (Headscale answering after 5 s)', `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (n=${r.n})`, r.p99Ms, '≤', 300, 'p99 ≤ 300 ms')];
    },
  },
  {
    name: 'chart',
    about: '~10 s',
    what: 'CPU chart PNGs (15 min, 90 samples) rendered and encoded',
    run: async () => {
      const r = await benchChart();
      return [
        info('CPU chart PNG (15 min, 90 samples) render + encode', `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (n=${r.n}); ${r.width}×${r.height}, ${(r.bytes / 1024).toFixed(1)} KiB (off the event loop; never blocks an alert)`),
      ];
    },
  },
];

const only = process.argv.slice(2);
const unknown = only.filter((n) => !steps.some((s) => s.name === n));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${steps.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const chosen = steps.filter((s) => only.length === 0 || only.includes(s.name));

process.stderr.write(
  [
    `[bench] ${chosen.length} benchmark(s), usually 10–14 min in all on a shared 2-core machine; Docker-backed ones use ${process.env.DOCKER_HOST ?? 'the default Docker socket'}:`,
    ...chosen.map((s) => `[bench]   ${s.name.padEnd(13)} ${s.about.padEnd(9)} ${s.what}`),
    '',
  ].join('\n'),
);

const rows: Row[] = [];
for (const s of chosen) {
  const t0 = Date.now();
  process.stderr.write(`[bench] ${s.name}…\n`);
  try {
    rows.push(...(await s.run()));
  } catch (err) {
    rows.push({ name: s.name, figure: `FAILED: ${(err as Error).message}`, target: '', verdict: 'failed' });
  }
  process.stderr.write(`[bench] ${s.name} took ${Math.round((Date.now() - t0) / 1000)} s\n`);
}

console.log(`\n${table(rows)}`);
process.exit(0);
