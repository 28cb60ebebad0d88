// pause() on the portable backend reaches node:dgram's handle through a
// private symbol of node:dgram. On a Node where that symbol is not found,
// pause() must refuse loudly instead of doing nothing. The child process
// hides the symbol from udpkit's lookup (node:dgram itself uses primordials
// and keeps working), which is how such a Node would look.
import { describe, expect, it } from 'vitest';
import { runChild } from './support/differential.js';

const hideStateSymbol = `
const ownSymbols = Object.getOwnPropertySymbols;
Object.getOwnPropertySymbols = (object) => ownSymbols(object).filter((s) => s.description !== 'state symbol');
`;

function attempt(label: string): string {
  return `(socket) => {
    try {
      socket.pause();
      results.push(['${label}', 'paused', socket.isPaused()]);
    } catch (error) {
      results.push(['${label}', error.code, error.message, socket.isPaused()]);
    }
  }`;
}

const body = (hidden: boolean) => `
${hidden ? hideStateSymbol : ''}
const results = [];
const before = dgram.createSocket({ type: 'udp4', backend: 'portable' });
(${attempt('before bind')})(before);
before.close();
const socket = dgram.createSocket({ type: 'udp4', backend: 'portable' });
socket.bind(0, '127.0.0.1', () => {
  (${attempt('bound')})(socket);
  // Not paused, so datagrams still arrive.
  socket.once('message', (msg) => {
    results.push(['received', msg.toString()]);
    console.log(JSON.stringify(results));
    socket.close();
  });
  socket.resume();
  socket.send('hello', socket.address().port, '127.0.0.1');
});
`;

describe('portable pause() without node:dgram\'s handle', () => {
  it('throws ERR_UDPKIT_UNSUPPORTED before and after bind, and reading goes on', async () => {
    const { outcome, code, output } = await runChild('ours', body(true), 15_000);
    expect({ outcome, code }, output).toEqual({ outcome: 'exited', code: 0 });
    const message = 'pause is not supported by the portable backend';
    expect(JSON.parse(output)).toEqual([
      ['before bind', 'ERR_UDPKIT_UNSUPPORTED', message, false],
      ['bound', 'ERR_UDPKIT_UNSUPPORTED', message, false],
      ['received', 'hello'],
    ]);
  });

  it('with the handle found (this Node), pauses as usual', async () => {
    const { outcome, code, output } = await runChild('ours', body(false), 15_000);
    expect({ outcome, code }, output).toEqual({ outcome: 'exited', code: 0 });
    expect(JSON.parse(output)).toEqual([
      ['before bind', 'paused', true],
      ['bound', 'paused', true],
      ['received', 'hello'],
    ]);
  });
});
