// How the benchmarks print: units, and tables with a header rule.

export const fmt = {
  pps: (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(0)} k/s`),
  us: (v: number) => `${v.toFixed(3)} µs`,
  x: (v: number) => `${v.toFixed(2)}x`,
  pct: (v: number) => `${(v * 100).toFixed(1)} %`,
};

/** The first row is the header; the first column is left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
