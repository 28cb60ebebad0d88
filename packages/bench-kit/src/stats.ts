// The statistics of the benchmarks: medians, and ratios taken round by round.

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * `of(a) / of(b)` for each measurement a of `over` and the measurement b of
 * `under` from the same round (a round's contenders ran minutes apart at
 * most), in the order of `over`; rounds missing either side are left out.
 */
export function perRoundRatios<M extends { round: number }>(over: M[], under: M[], of: (m: M) => number): number[] {
  return over.flatMap((a) => {
    const b = under.find((m) => m.round === a.round);
    return b ? [of(a) / of(b)] : [];
  });
}

/** `xs` rotated left by `round - 1`: each round starts with another contender. */
export function rotate<T>(xs: T[], round: number): T[] {
  return xs.map((_, i) => xs[(i + round - 1) % xs.length]!);
}
