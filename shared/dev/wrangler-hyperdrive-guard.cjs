// Preloaded into `wrangler dev` (NODE_OPTIONS=--require) by shared/dev/wrangler.ts.
//
// Local Hyperdrive in miniflare 4 pipes each Worker connection to the database with
// `net.connect()` and two `pipe()` calls, and attaches no 'error' listener: when the database is
// down or drops a connection (ECONNREFUSED, ECONNRESET, EPIPE) the error is uncaught and wrangler
// exits. Production Hyperdrive answers an error instead. This gives every net.connect() socket an
// error listener, and ties the two ends of a pipe together, so that one failing closes the other
// and the Worker sees a closed connection, as it would in production.
'use strict';
const net = require('node:net');

const originalConnect = net.connect;
function guardedConnect(...args) {
  const socket = originalConnect.apply(this, args);
  socket.on('error', () => socket.destroy());
  const originalPipe = socket.pipe;
  socket.pipe = function pipe(destination, options) {
    if (destination instanceof net.Socket) {
      destination.on('error', () => {
        destination.destroy();
        socket.destroy();
      });
      destination.on('close', () => socket.destroy());
      socket.on('close', () => destination.destroy());
    }
    return originalPipe.call(this, destination, options);
  };
  return socket;
}
net.connect = guardedConnect;
net.createConnection = guardedConnect;
