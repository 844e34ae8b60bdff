import { describe, expect, it } from 'vitest';
import { benchLogPipeline } from '../../bench/log-pipeline.js';
import type { Finding } from '../../src/parsers/finding.js';

// Keeps the benchmark honest and runnable; speed itself is only reported by `npm run bench`, never asserted.
describe('benchLogPipeline', () => {
  it('parses the generated mix and hands every finding to the sink', async () => {
    const kinds = new Map<string, number>();
    let sunk = 0;
    const result = await benchLogPipeline({
      lines: 30_000,
      rounds: 2,
      print: false,
      sink: (f: Finding) => {
        sunk++;
        kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
      },
    });
    expect(result.lines).toBe(30_000);
    expect(result.findings).toBeGreaterThan(1_000);
    // Each of the 2 rounds runs the pipeline twice, fed in chunks and fed one line a push: the same findings each time.
    expect(sunk).toBe(result.findings * 2 * 2);
    for (const kind of ['node-connected', 'node-disconnected', 'unsupported-client', 'proxy-no-upgrade']) {
      expect(kinds.get(kind) ?? 0, kind).toBeGreaterThan(0);
    }
    expect(result.baselineLinesPerSec).toBeGreaterThan(0);
    expect(result.pipelineLinesPerSec).toBeGreaterThan(0);
    expect(result.framesLinesPerSec).toBeGreaterThan(0);
    expect(result.ratio).toBeCloseTo(result.pipelineLinesPerSec / result.baselineLinesPerSec, 6);
    // Parsing costs more than splitting alone, whichever clock measures it.
    expect(result.cpuRatio).toBeGreaterThan(0);
    expect(result.cpuRatio).toBeLessThan(1);
  });
});
