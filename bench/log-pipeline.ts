import { mulberry32 } from '../test/support/prng.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding } from '../src/parsers/finding.js';
import { headscaleParser } from '../src/parsers/headscale.js';
import { LineSplitter } from '../src/sources/docker/lines.js';
import type { RuleSet } from '../src/rules/matcher.js';
import type { WatchedContainer } from '../src/sources/docker/types.js';

const HEADSCALE: WatchedContainer = { name: 'headscale', id: 'bench', image: 'headscale/headscale:0.29.8', role: 'headscale', running: true };

/**
 * Log pipeline throughput: LineSplitter + headscaleParser against a bare split-on-newline baseline over the same
 * ~64 KiB chunks (the size Docker's log stream tends to deliver). The ratio says how much of the unavoidable
 * cost (finding newlines, decoding UTF-8) the pipeline adds on top.
 */

export interface LogPipelineBenchOptions {
  /** Lines to generate (default 1,000,000; the reported figure should use at least that). */
  lines?: number;
  /** Receives every finding of every round (e.g. a detector); its cost is part of the pipeline figure. */
  sink?: (f: Finding) => void;
  /** User rules run on every line beside the parser, as the ingest path does (their findings go to `sink`). */
  rules?: RuleSet;
  /** Timed rounds per variant; the best round counts (default 5: shared CI machines are noisy). */
  rounds?: number;
  /** Print the figures (default true). */
  print?: boolean;
}

export interface LogPipelineBenchResult {
  lines: number;
  baselineLinesPerSec: number;
  pipelineLinesPerSec: number;
  /** pipeline / baseline. */
  ratio: number;
  /** The same pipeline fed one line a push, as the Docker source feeds it (one frame a message). */
  framesLinesPerSec: number;
  /**
   * The same ratio from CPU time (user + system of the process, best round each) instead of wall time: on a
   * shared machine wall time also counts the time other processes had the core, CPU time only the work done.
   */
  cpuRatio: number;
  rssMb: number;
  /** Size of the generated input. */
  inputMb: number;
  /** Findings the parser produced in one pass. */
  findings: number;
}

const CHUNK_BYTES = 64 * 1024;
const CALLER = 'home/runner/work/headscale/headscale/hscontrol';
const NODES = 400;


let isoSec = -1;
let isoText = '';
function isoAt(sec: number): string {
  if (sec !== isoSec) {
    isoSec = sec;
    isoText = new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
  }
  return isoText;
}

function ptr(r: () => number): string {
  return `0xc000${Math.floor(r() * 0xffffff)
    .toString(16)
    .padStart(6, '0')}`;
}

/** One realistic headscale line (0.29 layout) in the chosen format. */
function generateLine(r: () => number, json: boolean, sec: number): string {
  const x = r();
  const t = isoAt(sec);
  const id = 1 + Math.floor(r() * NODES);
  const name = `node-${id}`;
  const remote = `172.18.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}:${40000 + Math.floor(r() * 20000)}`;
  const nodeFields = (online: boolean) =>
    json
      ? `"node.id":${id},"node.name":"${name}","machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false,"node.online":${online},"user.name":"alice"`
      : `machine.key=[RoBrF] node.expired=false node.id=${id} node.is_tagged=false node.key=[wZ9Nr] node.name=${name} node.online=${online} user.name=alice`;
  if (x < 0.62) {
    // Access log: the bulk of a busy server's output.
    const paths = ['/machine/map', '/ts2021', '/health', '/api/v1/node', '/key', '/derp'];
    const path = paths[Math.floor(r() * paths.length)] ?? '/health';
    const status = path === '/ts2021' ? 101 : 200;
    const elapsed = (r() * 5000).toFixed(3);
    return json
      ? `{"level":"info","method":"POST","path":"${path}","proto":"HTTP/1.1","remote":"${remote}","status":${status},"bytes":${Math.floor(r() * 4000)},"elapsed":${elapsed},"time":${sec},"message":"http request"}`
      : `${t} INF http request bytes=${Math.floor(r() * 4000)} elapsed=${elapsed} method=POST path=${path} proto=HTTP/1.1 remote=${remote} status=${status}`;
  }
  if (x < 0.8) {
    // Debug chatter from the batcher and poll loop.
    const pick = Math.floor(r() * 3);
    if (pick === 0) {
      return json
        ? `{"level":"debug","component":"poll",${nodeFields(true)},"omit_peers":false,"stream":true,"caller":"/${CALLER}/poll.go:258","time":${sec},"message":"node added to batcher"}`
        : `${t} DBG ${CALLER}/poll.go:258 > node added to batcher component=poll ${nodeFields(true)} omit_peers=false stream=true`;
    }
    if (pick === 1) {
      return json
        ? `{"level":"debug","disconnect_epoch":${Math.floor(r() * 9)},"active_sessions":1,"time":${sec},"message":"session released, other sessions keep node online"}`
        : `${t} DBG session released, other sessions keep node online active_sessions=1 disconnect_epoch=${Math.floor(r() * 9)}`;
    }
    return json
      ? `{"level":"debug","node.id":${id},"active.connections":1,"total.duration":"${(r() * 9).toFixed(3)}ms","time":${sec},"message":"node connection established in batcher"}`
      : `${t} DBG node connection established in batcher active.connections=1 node.id=${id} total.duration=${(r() * 9).toFixed(3)}ms`;
  }
  if (x < 0.95) {
    // Connect / disconnect pairs (state + poll lines); the pair shares a chan pointer.
    const chan = ptr(r);
    const which = Math.floor(r() * 4);
    if (which === 0) {
      return json
        ? `{"level":"info",${nodeFields(true)},"time":${sec},"message":"node connected"}`
        : `${t} INF node connected ${nodeFields(true)}`;
    }
    if (which === 1) {
      return json
        ? `{"level":"info","component":"poll",${nodeFields(false)},"omit_peers":false,"stream":true,"caller":"/${CALLER}/poll.go:251","chan":"${chan}","time":${sec},"message":"node has connected"}`
        : `${t} INF ${CALLER}/poll.go:251 > node has connected chan=${chan} component=poll ${nodeFields(false)} omit_peers=false stream=true`;
    }
    if (which === 2) {
      return json
        ? `{"level":"info",${nodeFields(false)},"time":${sec},"message":"node disconnected"}`
        : `${t} INF node disconnected ${nodeFields(false)}`;
    }
    return json
      ? `{"level":"info","component":"poll",${nodeFields(false)},"omit_peers":false,"stream":true,"caller":"/${CALLER}/poll.go:211","chan":"${chan}","time":${sec},"message":"node has disconnected"}`
      : `${t} INF ${CALLER}/poll.go:211 > node has disconnected chan=${chan} component=poll ${nodeFields(false)} omit_peers=false stream=true`;
  }
  if (x < 0.98) {
    const pick = Math.floor(r() * 3);
    if (pick === 0) {
      return json
        ? `{"level":"warn","node.id":${id},"error":"connection c1a2b3: timeout sending to channel (likely stale connection)","conn.id":"c1a2b3","time":${sec},"message":"send: connection failed"}`
        : `${t} WRN send: connection failed error="connection c1a2b3: timeout sending to channel (likely stale connection)" conn.id=c1a2b3 node.id=${id}`;
    }
    if (pick === 1) {
      return json
        ? `{"level":"error","error":"upgrading noise connection: unsupported client version: v1.74 (106)","code":500,"time":${sec},"message":"http internal server error"}`
        : `${t} ERR http internal server error error="upgrading noise connection: unsupported client version: v1.74 (106)" code=500`;
    }
    return json
      ? `{"level":"warn","caller":"/${CALLER}/noise.go:107","time":${sec},"message":"no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through."}`
      : `${t} WRN ${CALLER}/noise.go:107 > no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.`;
  }
  // Junk: a Go panic trace, blank lines, something printed by a wrapper script.
  const junk = [
    'goroutine 1 [running]:',
    `\tgithub.com/juanfont/headscale/hscontrol.(*Headscale).Serve(0xc000${id})`,
    '',
    'panic: runtime error: invalid memory address or nil pointer dereference',
    `entrypoint: waiting for config ${name}`,
  ];
  return junk[Math.floor(r() * junk.length)] ?? '';
}

/** Input as ~64 KiB chunks cut at arbitrary byte offsets (mid-line, like a real stream). */
function generateChunks(lines: number): { chunks: Buffer[]; bytes: number } {
  const r = mulberry32(0x5eed);
  const chunks: Buffer[] = [];
  let parts: string[] = [];
  let pending = 0;
  let total = 0;
  let sec = 1_795_681_174;
  let leftover: Buffer | undefined;
  const flush = (final: boolean): void => {
    let buf = Buffer.from(parts.join(''), 'utf8');
    parts = [];
    pending = 0;
    if (leftover !== undefined) buf = Buffer.concat([leftover, buf]);
    let i = 0;
    for (; i + CHUNK_BYTES <= buf.length; i += CHUNK_BYTES) chunks.push(Buffer.from(buf.subarray(i, i + CHUNK_BYTES)));
    leftover = i < buf.length ? Buffer.from(buf.subarray(i)) : undefined;
    if (final && leftover !== undefined) {
      chunks.push(leftover);
      leftover = undefined;
    }
  };
  // Formats alternate in blocks, so both parser paths get warm and stay in the mix.
  const block = 10_000;
  for (let n = 0; n < lines; n++) {
    if (n % 50 === 0) sec++;
    const line = generateLine(r, Math.floor(n / block) % 2 === 0, sec) + '\n';
    parts.push(line);
    pending += line.length;
    total += Buffer.byteLength(line);
    if (pending >= 1 << 20) flush(false);
  }
  flush(true);
  return { chunks, bytes: total };
}

/** Split on '\n' with Buffer.indexOf and decode, nothing else: the floor any line reader pays. */
function runBaseline(chunks: Buffer[]): number {
  let count = 0;
  let chars = 0;
  let carry: Buffer | undefined;
  for (const chunk of chunks) {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        const rest = chunk.subarray(pos);
        carry = carry === undefined ? Buffer.from(rest) : Buffer.concat([carry, rest]);
        break;
      }
      let s: string;
      if (carry !== undefined) {
        s = Buffer.concat([carry, chunk.subarray(pos, nl)]).toString('utf8');
        carry = undefined;
      } else {
        s = chunk.toString('utf8', pos, nl);
      }
      count++;
      chars += s.length;
      pos = nl + 1;
    }
  }
  if (carry !== undefined && carry.length > 0) {
    count++;
    chars += carry.toString('utf8').length;
  }
  return chars >= 0 ? count : -1;
}

/**
 * Feeds `splitter` as the Docker source does: one push per log message (a frame with `timestamps=true`), here a
 * subarray per line of each chunk; a line that straddles two chunks arrives in two pushes.
 */
function pushFrames(splitter: LineSplitter, chunk: Buffer): void {
  let pos = 0;
  for (;;) {
    const nl = chunk.indexOf(10, pos);
    if (nl === -1) {
      if (pos < chunk.length) splitter.push(chunk.subarray(pos));
      return;
    }
    splitter.push(chunk.subarray(pos, nl + 1));
    pos = nl + 1;
  }
}

function runPipeline(chunks: Buffer[], sink: ((f: Finding) => void) | undefined, rules?: RuleSet, frames = false): { lines: number; findings: number } {
  let lines = 0;
  let findings = 0;
  const at = Date.now();
  const splitter = new LineSplitter({
    onLine(line) {
      lines++;
      const f = headscaleParser.parse(line, at, 'headscale');
      if (f !== undefined) {
        findings++;
        sink?.(f);
      }
      if (rules) {
        const matched = rules.match(HEADSCALE, line, at);
        if (matched) for (const m of matched) sink?.(m);
      }
    },
    onSkipped() {},
  });
  if (frames) for (const chunk of chunks) pushFrames(splitter, chunk);
  else for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return { lines, findings };
}

/** Wall and CPU seconds of one call. */
function seconds(fn: () => void): { wall: number; cpu: number } {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  fn();
  const used = process.cpuUsage(cpu);
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, cpu: (used.user + used.system) / 1e6 };
}

export async function benchLogPipeline(opts: LogPipelineBenchOptions = {}): Promise<LogPipelineBenchResult> {
  const lines = Math.max(1, Math.floor(opts.lines ?? 1_000_000));
  const rounds = Math.max(1, opts.rounds ?? 5);
  const print = opts.print ?? true;
  const { chunks, bytes } = generateChunks(lines);

  let best = { baseline: Infinity, pipeline: Infinity, frames: Infinity };
  let bestCpu = { baseline: Infinity, pipeline: Infinity };
  let findings = 0;
  let seen = 0;
  for (let round = 0; round < rounds; round++) {
    // Alternate so neither variant always runs on a warmer (or more fragmented) heap.
    const b = seconds(() => {
      seen = runBaseline(chunks);
    });
    if (seen !== lines) throw new Error(`log pipeline bench: baseline saw ${seen} lines, expected ${lines}`);
    let found = 0;
    let emitted = 0;
    const p = seconds(() => {
      ({ findings: found, lines: emitted } = runPipeline(chunks, opts.sink, opts.rules));
    });
    findings = found;
    let framed = 0;
    const f = seconds(() => {
      framed = runPipeline(chunks, opts.sink, opts.rules, true).lines;
    });
    if (framed !== emitted) throw new Error(`log pipeline bench: fed one line a push the pipeline saw ${framed} lines, fed chunks ${emitted}`);
    best = { baseline: Math.min(best.baseline, b.wall), pipeline: Math.min(best.pipeline, p.wall), frames: Math.min(best.frames, f.wall) };
    bestCpu = { baseline: Math.min(bestCpu.baseline, b.cpu), pipeline: Math.min(bestCpu.pipeline, p.cpu) };
    await new Promise((r) => setImmediate(r));
  }

  const baselineLinesPerSec = Math.round(lines / best.baseline);
  const pipelineLinesPerSec = Math.round(lines / best.pipeline);
  const ratio = pipelineLinesPerSec / baselineLinesPerSec;
  const framesLinesPerSec = Math.round(lines / best.frames);
  const cpuRatio = bestCpu.pipeline > 0 ? bestCpu.baseline / bestCpu.pipeline : 0;
  const rssMb = Math.round((process.memoryUsage().rss / (1024 * 1024)) * 10) / 10;
  const inputMb = Math.round((bytes / (1024 * 1024)) * 10) / 10;
  const result: LogPipelineBenchResult = { lines, baselineLinesPerSec, pipelineLinesPerSec, ratio, framesLinesPerSec, cpuRatio, rssMb, inputMb, findings };
  if (print) {
    const fmt = (n: number) => n.toLocaleString('en-US');
    console.log(`log pipeline: ${fmt(lines)} headscale lines (${inputMb} MB, JSON and text), best of ${rounds}`);
    console.log(`  baseline (indexOf + toString): ${fmt(baselineLinesPerSec)} lines/s`);
    console.log(`  LineSplitter + headscaleParser: ${fmt(pipelineLinesPerSec)} lines/s, ${fmt(findings)} findings`);
    console.log(`  ratio ${(ratio * 100).toFixed(1)} % (target ≥ 25 %) ${ratio >= 0.25 ? 'OK' : 'BELOW TARGET'}; by CPU time ${(cpuRatio * 100).toFixed(1)} %; RSS ${rssMb} MB`);
    console.log(`  fed one line a push (as Docker frames arrive): ${fmt(framesLinesPerSec)} lines/s`);
  }
  return result;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  await benchLogPipeline();
}
