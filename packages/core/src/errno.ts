// libuv's error numbers, looked up by name. They differ between platforms
// (EISCONN is -106 on Linux, -56 on macOS, -4071 on Windows), so none is
// written as a number. `util.getSystemErrorMap()` is libuv's own table, the
// one Node's errors use; `os.constants.errno` holds the OS's positive values,
// which are not libuv's on Windows.
import { getSystemErrorMap } from 'node:util';

function uvErrno(name: string): number {
  for (const [errno, [code]] of getSystemErrorMap()) {
    if (code === name) return errno;
  }
  throw new Error(`libuv has no error named ${name}`);
}

export const UV_EAGAIN = uvErrno('EAGAIN');
export const UV_EBADF = uvErrno('EBADF');
export const UV_ECANCELED = uvErrno('ECANCELED');
export const UV_EINVAL = uvErrno('EINVAL');
export const UV_EISCONN = uvErrno('EISCONN');
export const UV_ENOMEM = uvErrno('ENOMEM');
export const UV_ENOTSUP = uvErrno('ENOTSUP');
