// The exceptions of the Direct Sockets API: TypeError for bad arguments,
// DOMException "InvalidStateError" for calls in the wrong state,
// DOMException "NetworkError" for what the operating system refused, with
// the core error (its `code`, `errno`, `syscall`) as `cause`.

export function invalidState(message: string): DOMException {
  return new DOMException(message, 'InvalidStateError');
}

export function networkError(what: string, cause: unknown): DOMException {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DOMException(`${what}: ${detail}`, { name: 'NetworkError', cause });
}

export function notSupported(what: string, cause: unknown): DOMException {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DOMException(`${what}: ${detail}`, { name: 'NotSupportedError', cause });
}

/** The reason `close()` cancels and aborts the streams with, as in Chromium. */
export function streamClosed(): DOMException {
  return new DOMException('Stream closed.', 'AbortError');
}

/** What a stream is errored with when the socket under it was closed by someone else. */
export function socketClosed(): DOMException {
  return invalidState('The socket was closed.');
}
