/**
 * Finds which of a fixed set of literals occur in a line, in one pass that skips most of the line (Wu–Manber:
 * every literal is represented by a window of `m` characters, `m` the shortest literal's length; a shift table
 * over three-character blocks says how far the scan may jump when the block at the current position ends no
 * window — up to `m − 2` characters). Written here, not taken from npm: the Aho–Corasick packages there visit
 * every character through JS objects (several ns a character, 1–2 µs for a log line), while 20 rules may cost
 * only tens of nanoseconds a line; this scan reads about three characters in `m − 2` of a line that holds none
 * of the literals, and allocates nothing.
 *
 * Exact case only. Hashes only choose shifts (a collision makes a shift smaller, never wrong); every candidate is
 * confirmed with startsWith, so the answer is exactly "line.includes(literal)" for each literal.
 */

const TABLE_SIZE = 1 << 16;

function blockHash(a: number, b: number, c: number): number {
  return ((a << 11) ^ (b << 5) ^ c) & 0xffff;
}

/**
 * Characters that are common in log lines (lower-case letters, space, digits, a few separators) make a poor
 * window: blocks of them are everywhere, so the scan stops and checks often. Each literal's window is placed
 * where its blocks are rarest by this rough weight.
 */
function commonness(code: number): number {
  if (code === 32) return 4;
  if (code >= 97 && code <= 122) return 'etaoinsrlcdu'.includes(String.fromCharCode(code)) ? 3 : 2;
  if (code >= 48 && code <= 57) return 2;
  if (code === 61 || code === 34 || code === 58 || code === 46 || code === 44 || code === 45 || code === 95 || code === 47) return 2;
  return 0;
}

export class LiteralScan {
  /** The literals, deduplicated, in the order given. */
  readonly literals: readonly string[];
  /** The literal indexes the last scan found, in the order met: `found[0 .. scan()-1]`. */
  readonly found: Int32Array;
  private readonly m: number;
  private readonly shift: Uint8Array;
  /** For a block hash that ends some literal's window: [literal index, window offset in the literal] pairs. */
  private readonly ends: (number[] | undefined)[];
  /** Scratch marks, reset after each scan (so a literal found twice is reported once). */
  private readonly seen: Uint8Array;

  constructor(literals: readonly string[]) {
    this.literals = [...new Set(literals)];
    if (this.literals.length === 0 || this.literals.some((l) => l.length < 3)) throw new Error('LiteralScan: needs literals of at least 3 characters');
    const m = this.literals.reduce((min, l) => Math.min(min, l.length), Infinity);
    this.m = m;
    this.found = new Int32Array(this.literals.length);
    this.seen = new Uint8Array(this.literals.length);
    this.shift = new Uint8Array(TABLE_SIZE).fill(Math.min(255, m - 2));
    this.ends = new Array<number[] | undefined>(TABLE_SIZE).fill(undefined);
    this.literals.forEach((lit, index) => {
      const offset = rarestWindow(lit, m);
      // Block j covers window characters j-2 .. j; its shift is how far the window's end still is.
      for (let j = 2; j < m; j++) {
        const h = blockHash(lit.charCodeAt(offset + j - 2), lit.charCodeAt(offset + j - 1), lit.charCodeAt(offset + j));
        this.shift[h] = Math.min(this.shift[h]!, Math.min(255, m - 1 - j));
      }
      const h = blockHash(lit.charCodeAt(offset + m - 3), lit.charCodeAt(offset + m - 2), lit.charCodeAt(offset + m - 1));
      (this.ends[h] ??= []).push(index, offset);
    });
  }

  /**
   * How many of the literals the line contains; their indexes are then in `found[0 .. count-1]` (valid until the
   * next scan). Allocates nothing.
   */
  scan(line: string): number {
    const m = this.m;
    const n = line.length;
    const shift = this.shift;
    let hits = 0;
    let i = m - 1; // index of the window's last character
    while (i < n) {
      const h = blockHash(line.charCodeAt(i - 2), line.charCodeAt(i - 1), line.charCodeAt(i));
      const s = shift[h]!;
      if (s !== 0) {
        i += s;
        continue;
      }
      const candidates = this.ends[h];
      if (candidates !== undefined) hits = this.confirm(line, i - m + 1, candidates, hits);
      i++;
    }
    if (hits > 0) this.seen.fill(0);
    return hits;
  }

  private confirm(line: string, windowStart: number, candidates: number[], hits: number): number {
    for (let k = 0; k < candidates.length; k += 2) {
      const index = candidates[k]!;
      const start = windowStart - candidates[k + 1]!;
      if (start < 0 || this.seen[index] === 1 || !line.startsWith(this.literals[index]!, start)) continue;
      this.seen[index] = 1;
      this.found[hits++] = index;
    }
    return hits;
  }
}

/** Offset of the `m`-character window of `lit` whose characters are least common in log text. */
function rarestWindow(lit: string, m: number): number {
  let best = 0;
  let bestScore = Infinity;
  for (let offset = 0; offset + m <= lit.length; offset++) {
    let score = 0;
    for (let j = 0; j < m; j++) score += commonness(lit.charCodeAt(offset + j));
    // The block that ends the window decides how often the scan stops to confirm: weigh it again.
    for (let j = m - 3; j < m; j++) score += 2 * commonness(lit.charCodeAt(offset + j));
    if (score < bestScore) {
      best = offset;
      bestScore = score;
    }
  }
  return best;
}
