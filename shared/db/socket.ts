/**
 * The socket postgres.js uses inside workerd: its own Workers socket (the `socket` export of its
 * `workerd` build, over `cloudflare:sockets`, TLS included), with two changes.
 *
 * A server that accepts the connection and closes it without a byte (a proxy or pooler whose
 * database is down, as `wrangler dev`'s local Hyperdrive does) is reported as an ECONNRESET error.
 * postgres.js 4 takes such a close for a transient CONNECTION_CLOSED and connects again with backoff
 * until `connect_timeout` has passed (postgres.js 3 did so forever, and the request hung); as an
 * error, the queries waiting for the connection reject at once and a batch goes to the fallback.
 *
 * A connection that cannot be opened rejects with ECONNREFUSED (workerd's own error has no code).
 */
import type postgres from 'postgres';

type SocketFactory = NonNullable<postgres.Options<Record<string, never>>['socket']>;
type SocketLike = Awaited<ReturnType<SocketFactory>>;
type Emitter = SocketLike & { emit(event: string | symbol, ...args: unknown[]): boolean; destroyed?: boolean };

export function workerdSocket(): SocketFactory {
  return async (options, host, port) => {
    // The workerd build of the module createSql already loaded (package.json's `workerd` condition).
    const { socket } = (await import('postgres')) as unknown as { socket?: SocketFactory };
    if (!socket) throw new Error("postgres.js's Workers build was not loaded: bundle with the `workerd` condition");
    let stream: SocketLike;
    try {
      stream = await socket(options, host, port);
    } catch (error) {
      if (typeof (error as { code?: unknown }).code === 'string') throw error; // SSL_NOT_SUPPORTED and the like
      throw Object.assign(new Error(`cannot connect to the database: ${(error as Error).message}`), { code: 'ECONNREFUSED', cause: error });
    }
    return quietCloseFails(stream as Emitter);
  };
}

/** Emits ECONNRESET before 'close' when the peer closed a connection that never sent a byte. */
function quietCloseFails(stream: Emitter): SocketLike {
  const emit = stream.emit.bind(stream);
  const end = stream.end.bind(stream);
  let received = 0;
  let failed = false;
  let ended = false; // ended by us (a cancel request's connection never gets a byte back)
  stream.end = (data?: Uint8Array) => {
    ended = true;
    return end(data);
  };
  stream.emit = (event: string | symbol, ...args: unknown[]) => {
    if (event === 'data') received += (args[0] as Uint8Array).byteLength;
    else if (event === 'error') failed = true;
    else if (event === 'close' && received === 0 && !failed && !ended && !stream.destroyed) {
      failed = true;
      emit('error', Object.assign(new Error('the database closed the connection before answering'), { code: 'ECONNRESET' }));
    }
    return emit(event, ...args);
  };
  return stream;
}
