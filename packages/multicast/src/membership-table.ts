// Reference counts of kernel memberships, one per (source, group, interface).
// Invariant: an entry exists exactly while the kernel holds the membership,
// and its count (>= 1) is the number of joins not yet left. An interface is
// its name and index: one deleted and recreated under its name is another
// (the kernel's membership of the old one does not cover the new one).

export interface MembershipKey {
  /** Canonical group address, without zone. */
  group: string;
  /** Canonical source address for a source-specific join. */
  source: string | undefined;
  /** Interface name. */
  interface: string;
  /** The interface index, 0 if unknown. */
  index: number;
}

export interface MembershipEntry extends MembershipKey {
  /** The interface argument the kernel join used; the leave must use the same. */
  via: string;
  count: number;
  /** Sources blocked on this any-source membership (exclude mode), with how many joins block each. */
  blocked: Map<string, number>;
}

function keyOf(key: MembershipKey): string {
  return `${key.source ?? '*'} ${key.group} ${key.interface}#${key.index}`;
}

export class MembershipTable {
  readonly #entries = new Map<string, MembershipEntry>();

  get(key: MembershipKey): MembershipEntry | undefined {
    return this.#entries.get(keyOf(key));
  }

  /** Counts one more join of a membership the kernel holds (or has just taken: `details` then describe it). */
  add(key: MembershipKey, details: { via: string }): MembershipEntry {
    const id = keyOf(key);
    let entry = this.#entries.get(id);
    if (entry === undefined) {
      entry = { group: key.group, source: key.source, interface: key.interface, index: key.index, ...details, count: 0, blocked: new Map() };
      this.#entries.set(id, entry);
    }
    entry.count++;
    return entry;
  }

  /** Counts one leave; returns the entry when that was the last (the kernel must leave now), else undefined. */
  remove(key: MembershipKey): MembershipEntry | undefined {
    const id = keyOf(key);
    const entry = this.#entries.get(id);
    if (entry === undefined) throw new RangeError(`no membership ${id} to leave`);
    if (--entry.count > 0) return undefined;
    this.#entries.delete(id);
    return entry;
  }

  entries(): MembershipEntry[] {
    return [...this.#entries.values()];
  }

  clear(): void {
    this.#entries.clear();
  }
}
