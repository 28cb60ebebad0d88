// The few Web IDL conversions the Direct Sockets dictionaries use, so that
// options and chunks are read the way a browser reads them: a member is
// present unless undefined; integers are [EnforceRange] (a TypeError outside
// the type's range, fractions truncated); strings go through String().

export function isPresent(value: unknown): boolean {
  return value !== undefined;
}

/** `[EnforceRange] unsigned short` / `unsigned long` / `octet`: an integer in 0..max. */
export function enforceRange(value: unknown, name: string, max: number): number {
  const number = Number(value);
  if (!Number.isFinite(number)) throw new TypeError(`${name} must be a finite number.`);
  const integer = Math.trunc(number);
  if (integer < 0 || integer > max) throw new TypeError(`${name} must be between 0 and ${max}.`);
  return integer;
}

export const MAX_UNSIGNED_SHORT = 0xffff;
export const MAX_UNSIGNED_LONG = 0xffffffff;
export const MAX_OCTET = 0xff;

export function toDOMString(value: unknown, name: string): string {
  if (typeof value === 'symbol') throw new TypeError(`${name} must be a string.`);
  return String(value);
}

export type SocketDnsQueryType = 'ipv4' | 'ipv6';

export function toDnsQueryType(value: unknown, name: string): SocketDnsQueryType {
  const string = toDOMString(value, name);
  if (string !== 'ipv4' && string !== 'ipv6') {
    throw new TypeError(`${name} must be 'ipv4' or 'ipv6', not '${string}'.`);
  }
  return string;
}

/** A dictionary argument: undefined and null read as `{}`, anything else must be an object. */
export function toDictionary(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' && typeof value !== 'function') throw new TypeError(`${name} must be an object.`);
  return value as Record<string, unknown>;
}
