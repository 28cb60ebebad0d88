// Node's dgram.Socket is a plain constructor function, so old code
// subclasses it the ES5 way:
//
//   function Server() { dgram.Socket.call(this, 'udp4'); }
//   util.inherits(Server, dgram.Socket);
//
// An ES class cannot be called like that. `callable(Class)` gives a function
// with the class's prototype that, called on an existing object, builds the
// class's state (private fields included) on that object: the class extends
// `AdoptingEmitter`, whose constructor hands back the object being adopted
// instead of a new one, and JavaScript installs the fields on what it returns.
import { EventEmitter } from 'node:events';

let adoptee: object | undefined;

/** An EventEmitter base class that initialises the object being adopted, if any, else the new one. */
export const AdoptingEmitter = function AdoptingEmitter(this: object) {
  const target = adoptee ?? this;
  adoptee = undefined;
  EventEmitter.call(target);
  return target;
} as unknown as typeof EventEmitter;
AdoptingEmitter.prototype = EventEmitter.prototype;
Object.setPrototypeOf(AdoptingEmitter, EventEmitter);

/** A function that works as `new F(...)`, `class X extends F`, and `F.call(existing, ...)`. */
export function callable<C extends abstract new (...args: never[]) => object>(Class: C): C {
  const construct = Class as unknown as new (...args: unknown[]) => object;
  const F = function (this: object, ...args: unknown[]) {
    if (this === null || typeof this !== 'object') {
      throw new TypeError(`Class constructor ${Class.name} cannot be invoked without 'new'`);
    }
    adoptee = this;
    try {
      new construct(...args);
    } finally {
      adoptee = undefined;
    }
  };
  Object.defineProperty(F, 'name', { value: Class.name });
  F.prototype = Class.prototype;
  Object.setPrototypeOf(F, Class); // statics, EventEmitter's included
  Object.defineProperty(Class.prototype, 'constructor', { value: F, writable: true, configurable: true });
  return F as unknown as C;
}
