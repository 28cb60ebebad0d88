// What older code still calls on a dgram Socket: the undocumented
// `sendto()`, and Node's DEP0112 members (`_handle`, `_receiving`,
// `_bindState`, `_queue`, `_reuseAddr`, `_healthCheck()`,
// `_stopReceiving()`), with Node's deprecation warning, on exactly the lines
// whose node:dgram still has them (they were removed in Node 25).
import { deprecate } from 'node:util';
import { nodeLine } from './node-line.js';
import { legacyView, Socket, type SendCallback } from './socket.js';
import { validateNumber, validateString } from './validators.js';

declare module './socket.js' {
  interface Socket {
    /** Node's undocumented `send` with every argument given and checked. */
    sendto(buffer: string | NodeJS.ArrayBufferView, offset: number, length: number, port: number, address: string, callback?: SendCallback): void;
  }
}

Socket.prototype.sendto = function sendto(buffer, offset, length, port, address, callback) {
  validateNumber(offset, 'offset');
  validateNumber(length, 'length');
  validateNumber(port, 'port');
  validateString(address, 'address');
  this.send(buffer, offset, length, port, address, callback);
};

/** What `_handle` gives: the descriptor as `fd`, as Node's UDP handle does; null once closed. */
export interface LegacyHandle {
  readonly fd: number;
}

const handles = new WeakMap<Socket, LegacyHandle>();

function handleOf(socket: Socket): LegacyHandle | null {
  const view = legacyView(socket);
  if (!view.open()) return null;
  let handle = handles.get(socket);
  if (!handle) {
    handle = Object.freeze({
      get fd() {
        return view.fileno();
      },
    });
    handles.set(socket, handle);
  }
  return handle;
}

function deprecatedAccessor(name: keyof Omit<ReturnType<typeof legacyView>, 'open' | 'fileno' | 'healthCheck' | 'stopReceiving'>): PropertyDescriptor {
  const message = `Socket.prototype._${name} is deprecated`;
  return {
    get: deprecate(function (this: Socket) {
      return legacyView(this)[name];
    }, message, 'DEP0112'),
    set: deprecate(function (this: Socket, value: never) {
      legacyView(this)[name] = value;
    }, message, 'DEP0112'),
  };
}

if (nodeLine.legacyMembers) {
  Object.defineProperties(Socket.prototype, {
    _handle: {
      get: deprecate(function (this: Socket) {
        return handleOf(this);
      }, 'Socket.prototype._handle is deprecated', 'DEP0112'),
    },
    _receiving: deprecatedAccessor('receiving'),
    _bindState: deprecatedAccessor('bindState'),
    _queue: deprecatedAccessor('queue'),
    _reuseAddr: deprecatedAccessor('reuseAddr'),
    _healthCheck: {
      value: deprecate(function (this: Socket) {
        legacyView(this).healthCheck();
      }, 'Socket.prototype._healthCheck() is deprecated', 'DEP0112'),
      writable: true,
      enumerable: true,
      configurable: true,
    },
    _stopReceiving: {
      value: deprecate(function (this: Socket) {
        legacyView(this).stopReceiving();
      }, 'Socket.prototype._stopReceiving() is deprecated', 'DEP0112'),
      writable: true,
      enumerable: true,
      configurable: true,
    },
  });
}
