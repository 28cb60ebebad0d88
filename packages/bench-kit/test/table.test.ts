import { describe, expect, it } from 'vitest';
import { fmt, table } from '../src/table.js';

describe('table', () => {
  it('left-aligns the first column, right-aligns the others, and rules the header', () => {
    const text = table([
      ['', 'datagrams/s', 'drops'],
      ['node:dgram', '180 k/s', '0.0 %'],
      ['udpkit sendMany(64)', '1.20 M/s', '12.5 %'],
    ]);
    expect(text.split('\n')).toEqual([
      '                     datagrams/s   drops',
      '-------------------  -----------  ------',
      'node:dgram               180 k/s   0.0 %',
      'udpkit sendMany(64)     1.20 M/s  12.5 %',
    ]);
  });
});

describe('fmt', () => {
  it('gives datagrams/s in k/s below a million and M/s from it', () => {
    expect(fmt.pps(999_499)).toBe('999 k/s');
    expect(fmt.pps(1_000_000)).toBe('1.00 M/s');
  });

  it('gives microseconds, ratios and percentages at their precision', () => {
    expect(fmt.us(1.23456)).toBe('1.235 µs');
    expect(fmt.x(0.955)).toBe('0.95x');
    expect(fmt.pct(0.1234)).toBe('12.3 %');
  });
});
