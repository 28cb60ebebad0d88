// Errors shaped exactly like Node's own (lib/internal/errors.js): the same
// classes, `code`s, messages and `toString()`, so code written against
// node:dgram can keep matching on them.
import { inspect, getSystemErrorMap, getSystemErrorName } from 'node:util';

type ErrorBase = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

/** An Error whose `code` is one of Node's `ERR_*` codes. */
export interface NodeStyleError extends Error {
  code: string;
}

function nodeError(Base: ErrorBase, code: string, message: string): NodeStyleError {
  const error = new Base(message) as NodeStyleError;
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  // Node's stack and toString() read "TypeError [ERR_X]: message".
  Object.defineProperty(error, 'toString', {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  error.stack = error.stack?.replace(/^[^:]*:/, `${error.name} [${code}]:`);
  return error;
}

const kTypes = new Set(['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']);
const classRegExp = /^([A-Z][a-z0-9]*)+$/;

/** Node's `determineSpecificType`, used in argument error messages. */
export function describeValue(value: unknown): string {
  if (value == null) return `${value}`;
  // Node prints every function this way, even an anonymous one ("function ").
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    if (name) return `an instance of ${name}`;
    return inspect(value, { depth: -1 });
  }
  if (typeof value === 'string') {
    // As is (a NUL or a newline unescaped), cut to 25 characters, in single
    // quotes unless it has one.
    const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
    return `type string (${shown.includes("'") ? JSON.stringify(shown) : `'${shown}'`})`;
  }
  let inspected = inspect(value, { colors: false });
  if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
  return `type ${typeof value} (${inspected})`;
}

function listOf(words: string[], prefix: string): string {
  if (words.length > 2) return `${prefix}${words.slice(0, -1).join(', ')}, or ${words.at(-1)}`;
  if (words.length === 2) return `${prefix}${words[0]} or ${words[1]}`;
  return `${prefix}${words[0]}`;
}

export function invalidArgType(name: string, expected: string | string[], actual: unknown): NodeStyleError {
  const expectedList = Array.isArray(expected) ? expected : [expected];
  let msg = 'The ';
  if (name.endsWith(' argument')) msg += `${name} `;
  else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `;
  msg += 'must be ';

  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const value of expectedList) {
    if (kTypes.has(value)) types.push(value.toLowerCase());
    else if (classRegExp.test(value)) instances.push(value);
    else other.push(value);
  }
  if (instances.length > 0 && types.includes('object')) {
    types.splice(types.indexOf('object'), 1);
    instances.push('Object');
  }
  if (types.length > 0) {
    msg += types.length === 1 ? `of type ${types[0]}` : listOf(types, 'one of type ');
    if (instances.length > 0 || other.length > 0) msg += ' or ';
  }
  if (instances.length > 0) {
    msg += instances.length > 2 ? listOf(instances, 'an instance of ') : `an instance of ${instances.join(' or ')}`;
    if (other.length > 0) msg += ' or ';
  }
  if (other.length > 0) {
    if (other.length > 1) msg += listOf(other, 'one of ');
    else msg += `${other[0]!.toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`;
  }
  msg += `. Received ${describeValue(actual)}`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', msg);
}

export const errors = {
  alreadyBound: () => nodeError(Error, 'ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound'),
  badBufferSize: () => nodeError(TypeError, 'ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer'),
  badPort: (name: string, port: unknown, allowZero: boolean) =>
    nodeError(
      RangeError,
      'ERR_SOCKET_BAD_PORT',
      `${name} should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${describeValue(port)}.`,
    ),
  badType: () => nodeError(TypeError, 'ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4, udp6'),
  bufferOutOfBounds: (name: string) =>
    nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', `"${name}" is outside of buffer bounds`),
  invalidArgValue: (name: string, value: unknown, reason = 'is invalid') =>
    nodeError(
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      `The ${name.includes('.') ? 'property' : 'argument'} '${name}' ${reason}. Received ${inspect(value)}`,
    ),
  /** A buffer that no longer holds what a call counted in it: detached, or shrunk out of bounds. */
  invalidStateDetached: () =>
    nodeError(Error, 'ERR_INVALID_STATE', 'Invalid state: the buffer was detached before its datagrams were queued'),
  invalidFdType: (type: string) => nodeError(TypeError, 'ERR_INVALID_FD_TYPE', `Unsupported fd type: ${type}`),
  ipBlocked: (ip: string) => nodeError(Error, 'ERR_IP_BLOCKED', `IP(${ip}) is blocked by net.BlockList`),
  isConnected: () => nodeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected'),
  missingArgs: (name: string) => nodeError(TypeError, 'ERR_MISSING_ARGS', `The "${name}" argument must be specified`),
  notConnected: () => nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected'),
  notRunning: () => nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running'),
  outOfRange: (name: string, range: string, value: unknown) => {
    // Big integers get Node's numeric separators: "1_099_511_627_776".
    const received =
      Number.isInteger(value) && Math.abs(value as number) > 2 ** 32
        ? String(value).replace(/(\d)(?=(\d{3})+$)/g, '$1_')
        : inspect(value);
    return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
  },
  /** udpkit's own: the native backend was asked for but its helper did not load. */
  nativeUnavailable: (cause: Error) => {
    const error = nodeError(Error, 'ERR_UDPKIT_NATIVE_UNAVAILABLE', `The native backend could not be loaded: ${cause.message}`);
    error.cause = cause;
    return error;
  },
  /** udpkit's own: a feature the running backend cannot provide. */
  unsupported: (feature: string, backend: string) =>
    nodeError(Error, 'ERR_UDPKIT_UNSUPPORTED', `${feature} is not supported by the ${backend} backend`),
};

let systemErrors: Map<number, [string, string]> | undefined;

/** libuv's name and message for a negative errno, e.g. UV_EBADF → ['EBADF', 'bad file descriptor']. */
export function systemError(errno: number): [code: string, message: string] {
  systemErrors ??= getSystemErrorMap();
  return systemErrors.get(errno) ?? [getSystemErrorName(errno), 'unknown error'];
}

export interface ErrnoError extends Error {
  errno: number;
  code: string;
  syscall: string;
  address?: string | undefined;
  port?: number;
}

/** Node's `ErrnoException`: "setTTL EBADF". */
export function errnoException(errno: number, syscall: string): ErrnoError {
  const [code] = systemError(errno);
  const error = new Error(`${syscall} ${code}`) as ErrnoError;
  error.errno = errno;
  error.code = code;
  error.syscall = syscall;
  return error;
}

/** Node's `ExceptionWithHostPort`: "bind EADDRINUSE 127.0.0.1:41234". */
export function exceptionWithHostPort(
  errno: number,
  syscall: string,
  address: string | undefined,
  port: number | undefined,
): ErrnoError {
  const [code] = systemError(errno);
  let details = '';
  if (port && port > 0) details = ` ${address}:${port}`;
  else if (address) details = ` ${address}`;
  const error = new Error(`${syscall} ${code}${details}`) as ErrnoError;
  error.errno = errno;
  error.code = code;
  error.syscall = syscall;
  // Node always sets `address` (even to undefined: a connected send's
  // error has the key), and `port` only when there is one.
  error.address = address;
  if (port) error.port = port;
  return error;
}

export interface SystemErrorInfo {
  errno: number;
  code: string;
  message: string;
  syscall: string;
}

class SystemError extends Error {
  readonly code: string;
  readonly info: SystemErrorInfo;
  errno: number;
  syscall: string;

  constructor(code: string, prefix: string, info: SystemErrorInfo) {
    super(`${prefix}: ${info.syscall} returned ${info.code} (${info.message})`);
    this.code = code;
    this.info = info;
    this.errno = info.errno;
    this.syscall = info.syscall;
    Object.defineProperty(this, 'name', { value: 'SystemError', enumerable: false, writable: true, configurable: true });
    this.stack = this.stack?.replace(/^[^:]*:/, `SystemError [${code}]:`);
  }

  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

/** Node's ERR_SOCKET_BUFFER_SIZE, a SystemError with `info`. */
export function bufferSizeError(errno: number, recv: boolean): SystemError {
  const [code, message] = systemError(errno);
  const syscall = recv ? 'uv_recv_buffer_size' : 'uv_send_buffer_size';
  return new SystemError('ERR_SOCKET_BUFFER_SIZE', 'Could not get or set buffer size', { errno, code, message, syscall });
}
