/**
 * A plain-TCP socket for postgres.js inside workerd, over `cloudflare:sockets`.
 *
 * postgres.js ships its own (cf/polyfills.js), but closing it always leaves an unhandled rejection
 * ("Stream was cancelled", porsager/postgres#1202): its read loop reports the cancelled read as an
 * 'error' event after the connection has removed its listeners. This one reports a failure only
 * while somebody listens and treats a read cancelled by our own close as the end of the stream.
 * TLS connection strings keep using the built-in socket (see createSql).
 *
 * A server that accepts the connection and closes it without a byte (a proxy or pooler whose
 * database is down) is reported as an error: postgres.js reconnects at once, forever, when a
 * connection closes quietly while its first query waits, so the request would hang.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';

interface SocketOptions {
  host: string[];
  port: number[];
}

export function workerdSocket() {
  return async (options: SocketOptions) => {
    const { connect } = await import('cloudflare:sockets');
    const raw = connect({ hostname: options.host[0]!, port: options.port[0]! });
    // `closed` rejects when the connection fails; the read loop and `opened` report that already.
    raw.closed.catch(() => {});
    try {
      await raw.opened;
    } catch (error) {
      throw Object.assign(new Error(`cannot connect to the database: ${(error as Error).message}`), { code: 'ECONNREFUSED' });
    }
    const writer = raw.writable.getWriter();
    const reader = raw.readable.getReader();
    const socket = new EventEmitter() as EventEmitter & Record<string, unknown>;
    let closed = false;

    const finish = () => {
      if (closed) return;
      closed = true;
      socket.readyState = 'closed';
      socket.emit('close');
    };
    const fail = (error: unknown) => {
      if (!closed && socket.listenerCount('error') > 0) socket.emit('error', error);
      finish();
    };
    const close = () => {
      if (!closed) raw.close().catch(() => {}); // already closed by the peer: nothing left to do
      finish();
    };

    Object.assign(socket, {
      readyState: 'open',
      host: options.host[0],
      port: options.port[0],
      write(data: Uint8Array, callback?: () => void) {
        writer.write(data).then(callback, fail);
        return true;
      },
      end(data?: Uint8Array) {
        if (data) writer.write(data).then(close, close);
        else close();
      },
      destroy: close,
    });

    void (async () => {
      let received = 0;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          received += value.byteLength;
          socket.emit('data', Buffer.from(value));
        }
        if (received === 0 && !closed) {
          fail(Object.assign(new Error('the database closed the connection before answering'), { code: 'ECONNRESET' }));
        }
      } catch (error) {
        fail(error);
      }
      finish();
    })();

    return socket;
  };
}
