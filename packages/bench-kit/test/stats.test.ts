import { describe, expect, it } from 'vitest';
import { median, perRoundRatios, rotate } from '../src/stats.js';

describe('median', () => {
  it('takes the middle of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('leaves its input as it was', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('is NaN for no values (a ratio with no round)', () => {
    expect(median([])).toBeNaN();
  });
});

describe('perRoundRatios', () => {
  const run = (round: number, pps: number) => ({ round, pps });

  it('divides the measurements of the same round, in the order of `over`', () => {
    const over = [run(1, 10), run(2, 30), run(3, 12)];
    const under = [run(3, 4), run(1, 5), run(2, 10)];
    expect(perRoundRatios(over, under, (m) => m.pps)).toEqual([2, 3, 3]);
  });

  it('leaves out the rounds where either side is missing', () => {
    const over = [run(1, 10), run(3, 12)];
    const under = [run(2, 10), run(3, 4)];
    expect(perRoundRatios(over, under, (m) => m.pps)).toEqual([3]);
    expect(perRoundRatios([], under, (m) => m.pps)).toEqual([]);
  });
});

describe('rotate', () => {
  it('starts round n with the n-th contender, wrapping around', () => {
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['a', 'b', 'c']);
    expect(rotate(['a', 'b', 'c'], 2)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['a', 'b', 'c']);
  });
});
