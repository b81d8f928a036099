import { createMiddleware } from 'hono/factory';
import { createSql, releaseSql } from '../../shared/db/client';
import { createServiceLogging } from '../../shared/ingest/service-logging';
import { parseEnv } from '../../shared/env';
import type { AppEnv } from '../types';

/**
 * Puts the per-request services on the context: the parsed configuration, a postgres.js client
 * built from the Hyperdrive binding, and the service's own logger. The client connects on its
 * first query; after the response the logger is flushed and then the client released, through
 * `waitUntil` (awaiting `sql.end()` inline can fail inside workerd).
 */
export const SERVICE_NAME = 'log_ingest';

export function services() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = parseEnv(c.env);
    c.set('config', config);
    const sql = createSql(config.HYPERDRIVE.connectionString);
    c.set('sql', sql);
    const logging = createServiceLogging(sql);
    c.set('logger', logging.getServiceLogger(SERVICE_NAME).bind({ request_id: c.get('requestId') }));
    try {
      await next();
    } finally {
      c.executionCtx.waitUntil(logging.flush({ timeoutMs: 5_000 }).finally(() => releaseSql(sql)));
    }
  });
}
