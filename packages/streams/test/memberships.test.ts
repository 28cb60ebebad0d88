// The bookkeeping of joined groups: any-source and source-specific never
// mixed on one group; canonical addresses in, listed in joining order.
import { describe, expect, it } from 'vitest';
import { Memberships } from '../src/memberships.js';

describe('Memberships', () => {
  it('records any-source groups and lists them in joining order', () => {
    const table = new Memberships();
    table.add('239.1.1.1', undefined);
    table.add('ff12::1', undefined);
    expect(table.has('239.1.1.1', undefined)).toBe(true);
    expect(table.has('239.1.1.1', '10.0.0.1')).toBe(false);
    expect(table.list()).toEqual(['239.1.1.1', 'ff12::1']);
  });

  it('records several sources of one source-specific group, and forgets the group with its last source', () => {
    const table = new Memberships();
    table.add('232.1.1.1', '10.0.0.1');
    table.add('232.1.1.1', '10.0.0.2');
    expect(table.list()).toEqual([
      { groupAddress: '232.1.1.1', sourceAddress: '10.0.0.1' },
      { groupAddress: '232.1.1.1', sourceAddress: '10.0.0.2' },
    ]);
    expect(table.has('232.1.1.1', undefined)).toBe(false);
    table.delete('232.1.1.1', '10.0.0.1');
    expect(table.has('232.1.1.1', '10.0.0.1')).toBe(false);
    expect(table.has('232.1.1.1', '10.0.0.2')).toBe(true);
    table.delete('232.1.1.1', '10.0.0.2');
    expect(table.list()).toEqual([]);
    // The group is free again for an any-source join.
    expect(table.conflict('232.1.1.1', undefined)).toBeUndefined();
  });

  it('names each conflict as Chromium does', () => {
    const table = new Memberships();
    table.add('239.1.1.1', undefined);
    table.add('232.1.1.1', '10.0.0.1');
    expect(table.conflict('239.1.1.1', undefined)).toBe('Cannot join the same group/source combination again');
    expect(table.conflict('232.1.1.1', '10.0.0.1')).toBe('Cannot join the same group/source combination again');
    expect(table.conflict('239.1.1.1', '10.0.0.1')).toBe('Cannot join SSM group for which ASM membership already exists');
    expect(table.conflict('232.1.1.1', undefined)).toBe('Cannot join ASM group for which SSM membership already exists');
    expect(table.conflict('232.1.1.1', '10.0.0.2')).toBeUndefined();
    expect(table.conflict('239.2.2.2', undefined)).toBeUndefined();
  });

  it('clears everything', () => {
    const table = new Memberships();
    table.add('239.1.1.1', undefined);
    table.add('232.1.1.1', '10.0.0.1');
    table.clear();
    expect(table.list()).toEqual([]);
    expect(table.has('239.1.1.1', undefined)).toBe(false);
  });
});
