import { createMiddleware } from 'hono/factory';
import { createServiceLogging, SERVICE_NAME } from '../../shared/ingest';
import type { AppDeps, AppEnv } from '../types';

/**
 * Puts the per-request services on the context: the settings, a database client (lazy: it
 * connects on its first query), `defer` for work after the response, and the service's own
 * logger. After the response the logger is flushed (within 5 s) and then the client released,
 * through `defer` (awaiting `sql.end()` inline can fail inside workerd).
 *
 * @example
 * app.use(services({ settings, database, defer: (c, p) => c.executionCtx.waitUntil(p) }));
 */
export function services(deps: AppDeps) {
  return createMiddleware<AppEnv>(async function services(c, next) {
    const sql = deps.database.acquire();
    const defer = (promise: Promise<unknown>) => deps.defer(c, promise);
    c.set('settings', deps.settings);
    c.set('database', deps.database);
    c.set('sql', sql);
    c.set('defer', defer);
    const logging = createServiceLogging(sql);
    c.set('logger', logging.getServiceLogger(SERVICE_NAME).bind({ request_id: c.get('requestId') }));
    try {
      await next();
    } finally {
      defer(logging.flush({ timeoutMs: 5_000 }).finally(() => deps.database.release(sql)));
    }
  });
}
