import postgres from 'postgres';
import { workerdSocket } from './socket';

export type Sql = postgres.Sql<Record<string, never>>;
export type TransactionSql = postgres.TransactionSql<Record<string, never>>;

export interface SqlOptions {
  /** Pool size. Default 5, Cloudflare's recommendation for Hyperdrive. */
  max?: number;
  /** Seconds to wait for a connection before failing. Default 5. */
  connectTimeoutSeconds?: number;
  /** Seconds an idle connection stays open (0: forever). Default 20. */
  idleTimeoutSeconds?: number;
  /** Postgres' `statement_timeout` for the client's connections, in ms. Default: the server's. */
  statementTimeoutMs?: number;
  /**
   * How long a query (or transaction, or reserve) may wait for a connection before it rejects with
   * QUEUE_TIMEOUT, never sent, in ms (postgres.js 4's `queue_timeout`, in seconds). A query waits
   * when every connection is in a transaction or reserved or has `max_pipeline` queries in flight,
   * or for a new connection to open; otherwise it is pipelined on a busy one. Default: no limit.
   */
  queueTimeoutMs?: number;
}

/**
 * A postgres.js client with the options Cloudflare recommends for Hyperdrive (`max: 5`,
 * `fetch_types: false`). Connections open lazily on the first query, so creating one per request
 * costs no I/O; release it with `sql.end()` (in a Worker, through `ctx.waitUntil`).
 *
 * @example
 * const sql = createSql(env.HYPERDRIVE.connectionString);
 * ctx.waitUntil(releaseSql(sql));
 */
export function createSql(connectionString: string, options: SqlOptions = {}): Sql {
  return postgres(connectionString, {
    max: options.max ?? 5,
    fetch_types: false,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    idle_timeout: options.idleTimeoutSeconds ?? 20,
    ...(options.statementTimeoutMs ? { connection: { statement_timeout: options.statementTimeoutMs } } : {}),
    ...(options.queueTimeoutMs ? { queue_timeout: options.queueTimeoutMs / 1000 } : {}),
    onnotice: () => {},
    ...(inWorkerd() ? { socket: workerdSocket() } : {}),
  }) as unknown as Sql;
}

function inWorkerd(): boolean {
  return (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';
}

/** Closes a client's connections, letting queries in flight finish. Never rejects. */
export async function releaseSql(sql: Sql, timeoutSeconds = 5): Promise<void> {
  try {
    await sql.end({ timeout: timeoutSeconds });
  } catch {
    // workerd may report 'Stream was cancelled' for a socket already closed by the runtime; the
    // connection is gone either way and there is nobody left to tell.
  }
}

export async function ping(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}
