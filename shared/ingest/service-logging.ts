/**
 * The service's own logs: its functions cannot POST to themselves, so their records go straight
 * into the log tables, validated like ingested ones.
 */
import type { IngestRequest } from '../api/wire';
import type { Sql } from '../db/client';
import { isTransientDbError } from '../db/transient';
import { createLogging, type Logging } from '../logging';
import { toJsonSafe, type SendResult, type Sink } from '../logging/sink';
import { storeTrusted } from './store';

/** The service name of the service's own records. */
export const SERVICE_NAME = 'log_ingest';

/**
 * A logging Sink that writes into the log tables through `sql`; the service may log for any
 * service name.
 */
export class DatabaseSink implements Sink {
  constructor(private readonly sql: Sql) {}

  async send(batch: IngestRequest): Promise<SendResult> {
    try {
      const { rejected } = await storeTrusted(this.sql, JSON.parse(toJsonSafe(batch)));
      return { ok: true, rejected };
    } catch (error) {
      return { ok: false, retryable: isTransientDbError(error), reason: `database: ${(error as Error).message}` };
    }
  }
}

/**
 * The logging setup of the service's own code (one per request or scheduled run): records go to
 * its own tables through `sql`, and WARNING and above also to the console as JSON lines, so they
 * are seen even when the database is what failed. End with `defer(logging.flush())`.
 *
 * @example
 * const logging = createServiceLogging(sql);
 * logging.getServiceLogger(SERVICE_NAME).info('started');
 * await logging.shutdown({ timeoutMs: 5_000 });
 */
export function createServiceLogging(sql: Sql): Logging {
  return createLogging({
    service: SERVICE_NAME,
    sink: new DatabaseSink(sql),
    console: 'json',
    consoleLevel: 'WARNING',
    env: {},
    retryBaseMs: 200,
    maxRetryDelayMs: 1_000,
  });
}
