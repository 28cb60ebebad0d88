// The groups a socket has joined: any-source (ASM) groups, and
// source-specific (SSM) group/source pairs. A group is joined either way,
// never both at once (as in Chromium's MulticastController). Addresses are
// kept in canonical form, so '239.1.2.3' and 'ff12::1' match however the
// caller spelled them.

/** An SSM membership as `joinedGroups` lists it. */
export interface MulticastMembership {
  groupAddress: string;
  sourceAddress: string;
}

export class Memberships {
  /** group → undefined (ASM) or the set of sources (SSM). */
  readonly #groups = new Map<string, Set<string> | undefined>();

  has(group: string, source: string | undefined): boolean {
    if (!this.#groups.has(group)) return false;
    const sources = this.#groups.get(group);
    return source === undefined ? sources === undefined : sources?.has(source) === true;
  }

  /** Why joining would break the rules, or undefined when it may go ahead. */
  conflict(group: string, source: string | undefined): string | undefined {
    if (this.has(group, source)) return 'Cannot join the same group/source combination again';
    if (!this.#groups.has(group)) return undefined;
    const sources = this.#groups.get(group);
    if (source !== undefined && sources === undefined) return 'Cannot join SSM group for which ASM membership already exists';
    if (source === undefined && sources !== undefined) return 'Cannot join ASM group for which SSM membership already exists';
    return undefined;
  }

  add(group: string, source: string | undefined): void {
    if (source === undefined) {
      this.#groups.set(group, undefined);
      return;
    }
    const sources = this.#groups.get(group) ?? new Set<string>();
    sources.add(source);
    this.#groups.set(group, sources);
  }

  delete(group: string, source: string | undefined): void {
    const sources = this.#groups.get(group);
    if (source === undefined || sources === undefined) {
      this.#groups.delete(group);
      return;
    }
    sources.delete(source);
    if (sources.size === 0) this.#groups.delete(group);
  }

  clear(): void {
    this.#groups.clear();
  }

  /** ASM groups as strings, SSM memberships as objects, in the order joined. */
  list(): (string | MulticastMembership)[] {
    const list: (string | MulticastMembership)[] = [];
    for (const [groupAddress, sources] of this.#groups) {
      if (sources === undefined) list.push(groupAddress);
      else for (const sourceAddress of sources) list.push({ groupAddress, sourceAddress });
    }
    return list;
  }
}
