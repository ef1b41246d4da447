import { describe, expect, it } from 'vitest';
import { commonWgsl, rowStatsGradLanesWgsl, rowStatsGradWgsl, rowStatsLanesWgsl, rowStatsWgsl } from '../src/generated/wgsl.ts';
import { FUSED_COLUMNS, HIDDEN, STAT, STATS_COLUMNS, STATS_WGSL_PRELUDE, wgslColumnName } from '../src/stats.ts';

// The statistics-column contract: STAT (and the hidden columns) on the host, NCOL / COL_* in WGSL.

/** `const NAME: u32 = Ku;` declarations of a WGSL source, as a name → value map. */
function u32Consts(src: string): Map<string, number> {
  return new Map([...src.matchAll(/^const (\w+): u32 = (\d+)u;/gm)].map((m) => [m[1], Number(m[2])]));
}

/** A source without its comments. */
function code(src: string): string {
  return src.replace(/\/\/.*$/gm, '');
}

const SHADERS = { rowStatsWgsl, rowStatsGradWgsl, rowStatsLanesWgsl, rowStatsGradLanesWgsl };

describe('STATS_WGSL_PRELUDE', () => {
  it('declares NCOL and one COL_* per column of STAT and HIDDEN, with their indices', () => {
    const consts = u32Consts(STATS_WGSL_PRELUDE);
    const expected = new Map<string, number>([['NCOL', FUSED_COLUMNS]]);
    for (const [key, k] of Object.entries({ ...STAT, ...HIDDEN })) expected.set(wgslColumnName(key), k);
    expect(consts).toEqual(expected);
    // Every declaration line is one of those (nothing else slips in).
    const lines = STATS_WGSL_PRELUDE.split('\n').filter((l) => l !== '' && !l.startsWith('//'));
    expect(lines).toHaveLength(expected.size);
    expect(lines.every((l) => /^const \w+: u32 = \d+u;$/.test(l))).toBe(true);
  });

  it('covers 0 … FUSED_COLUMNS − 1 once each, the public columns first', () => {
    const indices = [...Object.values(STAT), ...Object.values(HIDDEN)];
    expect([...indices].sort((a, b) => a - b)).toEqual(Array.from({ length: FUSED_COLUMNS }, (_, k) => k));
    expect(Object.values(STAT).every((k) => k < STATS_COLUMNS)).toBe(true);
    expect(Object.keys(STAT)).toHaveLength(STATS_COLUMNS);
  });

  it('derives the WGSL names from the keys', () => {
    expect(wgslColumnName('rowMax')).toBe('COL_ROW_MAX');
    expect(wgslColumnName('lsePos')).toBe('COL_LSE_POS');
    expect(wgslColumnName('sumWLogit')).toBe('COL_SUM_W_LOGIT');
    expect(wgslColumnName('lseExpW')).toBe('COL_LSE_EXP_W');
    expect(wgslColumnName('logR')).toBe('COL_LOG_R');
  });

  it('is the only declaration of the columns: no shader declares NCOL or COL_* itself', () => {
    for (const [name, src] of Object.entries({ commonWgsl, ...SHADERS })) {
      expect(code(src), name).not.toMatch(/\bconst\s+(NCOL|COL_\w+)\b/);
    }
  });
});

describe('the statistics shaders name their columns', () => {
  // A bare index where a column is meant: need(3u), o[4], stats[b + 9u] / grad[b], put(i, 6u, …),
  // a literal row stride (`* 11u`) or an NCOL-sized array written with a number.
  const BARE = [
    /\bneed\(\s*\d/,
    /\bo\[\s*\d/,
    /\b(stats|grad)\[\s*b\s*(\+\s*\d+u?\s*)?\]/,
    /\bput\([^,()]+,\s*\d/,
    new RegExp(`\\*\\s*${FUSED_COLUMNS}u?\\b`),
    new RegExp(`array<f32,\\s*${FUSED_COLUMNS}u?>`),
  ];
  for (const [name, src] of Object.entries(SHADERS)) {
    it(name, () => {
      const body = code(src);
      expect(body).toMatch(/\bNCOL\b/);
      expect(body).toMatch(/\bCOL_[A-Z_]+\b/);
      body.split('\n').forEach((line, k) => {
        for (const re of BARE) expect(line, `line ${k + 1}: ${line.trim()}`).not.toMatch(re);
      });
      // Every COL_* used is declared by the prelude.
      const declared = u32Consts(STATS_WGSL_PRELUDE);
      for (const m of body.matchAll(/\bCOL_[A-Z_]+\b/g)) expect(declared.has(m[0]), m[0]).toBe(true);
    });
  }
});
