import { createLogging, type Logging } from '../logging';
import type { Sql } from '../db/client';
import { DatabaseSink } from './database-sink';

/**
 * The logging setup of the service's own code (one per request or scheduled run): records go to
 * its own tables through `sql`, and WARNING and above also to the console as JSON lines, so they
 * are seen even when the database is what failed. End with `ctx.waitUntil(logging.flush())`.
 */
export function createServiceLogging(sql: Sql): Logging {
  return createLogging({
    service: 'log_ingest',
    sink: new DatabaseSink(sql),
    console: 'json',
    consoleLevel: 'WARNING',
    env: {},
    retryBaseMs: 200,
    maxRetryDelayMs: 1_000,
  });
}
