// Chooses the backend for a new socket: `createSocket({ backend })`, else the
// UDPKIT_BACKEND environment variable, else native when the helper loads.
import type { Backend, BackendEvents, BackendName, Family } from './backend.js';
import { errors } from './errors.js';
import { NativeBackend, nativeLoadError } from './native-backend.js';
import { PortableBackend } from './portable-backend.js';

export function defaultBackend(): BackendName {
  const forced = process.env.UDPKIT_BACKEND;
  if (forced === 'native' || forced === 'portable') return forced;
  return nativeLoadError ? 'portable' : 'native';
}

export function createBackend(name: BackendName | undefined, family: Family, events: BackendEvents): Backend {
  const chosen = name ?? defaultBackend();
  if (chosen === 'portable') return new PortableBackend(family, events);
  if (chosen !== 'native') throw errors.invalidArgValue('options.backend', name, "must be 'native' or 'portable'");
  if (nativeLoadError) throw errors.nativeUnavailable(nativeLoadError);
  return new NativeBackend(family, events);
}
