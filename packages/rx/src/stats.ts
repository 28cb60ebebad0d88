import type { Socket, SocketStats } from '@udpkit/core';
import { interval, map, type Observable } from 'rxjs';

/** `socket.stats()` every `periodMs`, starting after one period. (A feed has its own `stats$`.) */
export function socketStats$(socket: Socket, periodMs: number): Observable<SocketStats> {
  return interval(periodMs).pipe(map(() => socket.stats()));
}
