// node:dgram code, unchanged but for the import: an echo server and a client.
import dgram from '@udpkit/core'; // was: import dgram from 'node:dgram'

const server = dgram.createSocket('udp4');
server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
server.bind(0, '127.0.0.1', () => {
  const { port } = server.address();
  const client = dgram.createSocket('udp4');
  let replies = 0;
  client.on('message', (msg) => {
    console.log(`echo: ${msg.toString()}`);
    if (++replies === 3) {
      client.close();
      server.close();
    }
  });
  for (const word of ['one', 'two', 'three']) client.send(word, port, '127.0.0.1');
});
