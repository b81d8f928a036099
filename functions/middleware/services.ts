import { createMiddleware } from 'hono/factory';
import type { Sql } from '../../shared/db/client';
import { readPreferReplica } from '../../shared/db/read';
import { createServiceLogging, emptyTally, recordIngestTally, SERVICE_NAME } from '../../shared/ingest';
import type { AppDeps, AppEnv } from '../types';

/**
 * Puts the per-request services on the context: the settings, a database client (lazy: it
 * connects on its first query), `read` for the query API (on the replica when there is one), `defer` for work after the response, and the service's own
 * logger, and the request's ingest tally. After the response the tally is added to the per-minute
 * counters and the logger flushed (within 5 s), and then the client released,
 * through `defer` (awaiting `sql.end()` inline can fail inside workerd).
 *
 * @example
 * app.use(services({ settings, database, defer: (c, p) => c.executionCtx.waitUntil(p) }));
 */
export function services(deps: AppDeps) {
  return createMiddleware<AppEnv>(async function services(c, next) {
    const sql = deps.database.acquire();
    // The replica's client is made on the first read only: ingest never pays for it.
    let replica: Sql | undefined;
    const defer = (promise: Promise<unknown>) => deps.defer(c, promise);
    c.set('settings', deps.settings);
    c.set('database', deps.database);
    c.set('sql', sql);
    c.set('read', async (query) => {
      replica ??= deps.database.acquireReplica?.();
      const { value, source } = await readPreferReplica(replica, sql, query);
      c.header('X-Read-From', source);
      return value;
    });
    c.set('defer', defer);
    const tally = emptyTally();
    c.set('tally', tally);
    const logging = createServiceLogging(sql);
    c.set('logger', logging.getServiceLogger(SERVICE_NAME).bind({ request_id: c.get('requestId') }));
    try {
      await next();
    } finally {
      const writes = [recordIngestTally(sql, tally), logging.flush({ timeoutMs: 5_000 })];
      defer(
        Promise.allSettled(writes).finally(() =>
          Promise.all([deps.database.release(sql), replica ? deps.database.release(replica) : undefined]),
        ),
      );
    }
  });
}
