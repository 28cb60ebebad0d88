// Type-checks against @udpkit/core's published types, as a CommonJS
// consumer: `require('@udpkit/core')` is node:dgram's shape.
import dgram = require('@udpkit/core');

const socket = dgram.createSocket('udp4');
socket.bind(0, () => socket.address().port.toFixed());
const reason: Error | undefined = dgram.nativeLoadError;
void reason;

// @ts-expect-error: not a socket type
dgram.createSocket('udp5');
