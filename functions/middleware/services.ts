import { createMiddleware } from 'hono/factory';
import { createSql, releaseSql } from '../../shared/db/client';
import { parseEnv } from '../../shared/env';
import type { AppEnv } from '../types';

/**
 * Puts the per-request services on the context: the parsed configuration and a postgres.js client
 * built from the Hyperdrive binding. The client connects on its first query and is released after
 * the response through `waitUntil` (awaiting `sql.end()` inline can fail inside workerd).
 */
export function services() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = parseEnv(c.env);
    c.set('config', config);
    const sql = createSql(config.HYPERDRIVE.connectionString);
    c.set('sql', sql);
    try {
      await next();
    } finally {
      c.executionCtx.waitUntil(releaseSql(sql));
    }
  });
}
