import { describe, expect, it } from 'vitest';
import { MembershipTable } from '../src/membership-table.js';

const key = { group: '239.1.1.1', source: undefined, interface: 'eth0', index: 2 };
const details = { via: '192.0.2.1' };

describe('MembershipTable', () => {
  it('counts repeated joins and reports the last leave', () => {
    const table = new MembershipTable();
    expect(table.add(key, details).count).toBe(1);
    expect(table.add(key, details).count).toBe(2);
    expect(table.remove(key)).toBeUndefined();
    expect(table.get(key)?.count).toBe(1);
    expect(table.remove(key)).toMatchObject({ ...key, ...details, count: 0 });
    expect(table.get(key)).toBeUndefined();
    expect(table.entries()).toEqual([]);
  });

  it('keeps source, group and interface apart', () => {
    const table = new MembershipTable();
    table.add(key, details);
    table.add({ ...key, interface: 'eth1', index: 3 }, { via: '192.0.2.2' });
    table.add({ ...key, source: '192.0.2.9' }, details);
    table.add({ ...key, group: '239.1.1.2' }, details);
    expect(table.entries().map((e) => `${e.source ?? '*'} ${e.group} ${e.interface} ${e.count}`)).toEqual([
      '* 239.1.1.1 eth0 1',
      '* 239.1.1.1 eth1 1',
      '192.0.2.9 239.1.1.1 eth0 1',
      '* 239.1.1.2 eth0 1',
    ]);
  });

  it('keeps the interface argument of the first join, for the leave', () => {
    const table = new MembershipTable();
    table.add(key, details);
    table.add(key, { via: 'other' });
    expect(table.get(key)).toMatchObject({ index: 2, via: '192.0.2.1', count: 2 });
  });

  it('keeps an interface recreated under its name (another index) apart', () => {
    const table = new MembershipTable();
    table.add(key, details);
    expect(table.get({ ...key, index: 7 })).toBeUndefined();
    expect(table.add({ ...key, index: 7 }, details).count).toBe(1);
    expect(table.entries()).toHaveLength(2);
  });

  it('refuses to leave what was never joined', () => {
    expect(() => new MembershipTable().remove(key)).toThrow('no membership * 239.1.1.1 eth0#2 to leave');
  });

  it('forgets everything on clear', () => {
    const table = new MembershipTable();
    table.add(key, details);
    table.clear();
    expect(table.entries()).toEqual([]);
  });
});
