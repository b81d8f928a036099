/**
 * The app on a long-lived host (Node, Deno): settings from the process environment, one postgres.js
 * pool shared by every request, work after the response tracked until it settles, and the
 * scheduled jobs on a client of their own. functions/node.ts and functions/deno.ts add only the
 * server, the scheduler and the signals of their runtime.
 */
import { createSql, type Sql } from '../shared/db/client';
import { parseConfig, PooledHostSchema, type PooledHostSettings } from '../shared/env';
import { createApp } from './app';
import { runJob, type JobName } from './jobs';
import type { App } from './types';

export interface PooledHost {
  app: App;
  settings: PooledHostSettings;
  /** The request pool. */
  pool: Sql;
  /** Runs one scheduled job now (for the minute before `now`), on its own client; never throws. */
  runJob(name: JobName, now?: Date): Promise<void>;
  /** Work after responses (and jobs) still running. */
  pending(): number;
  /**
   * Waits up to `timeoutMs` for the pending work, then ends the pool (queries still running after
   * that are cancelled). Call it after the server has stopped taking requests.
   */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * @example
 * const host = createPooledHost(process.env);
 * serve({ fetch: host.app.fetch, port: host.settings.PORT });
 */
export function createPooledHost(env: Record<string, string | undefined>): PooledHost {
  const settings = parseConfig(PooledHostSchema, env, 'configuration');
  const poolOptions = {
    max: settings.DB_POOL_MAX,
    idleTimeoutSeconds: settings.DB_IDLE_TIMEOUT_SECONDS,
    statementTimeoutMs: settings.DB_STATEMENT_TIMEOUT_MS,
    queueTimeoutMs: settings.DB_QUEUE_TIMEOUT_MS,
  };
  const pool = createSql(settings.DATABASE_URL, poolOptions);
  // A replica that is down is found out within 2 s, and the read goes to the primary.
  const replica = settings.READ_DATABASE_URL
    ? createSql(settings.READ_DATABASE_URL, { ...poolOptions, connectTimeoutSeconds: 2 })
    : undefined;
  const inflight = new Set<Promise<unknown>>();
  const track = (promise: Promise<unknown>) => {
    const settled = promise.then(
      () => {},
      (error: unknown) => console.error(JSON.stringify({ level: 'ERROR', event: 'deferred_work_failed', error: String(error) })),
    );
    inflight.add(settled);
    void settled.finally(() => inflight.delete(settled));
  };
  const app = createApp({
    settings,
    database: {
      acquire: () => pool,
      release: async () => {},
      ...(replica ? { acquireReplica: () => replica } : {}),
    },
    defer: (_c, promise) => track(promise),
  });

  async function job(name: JobName, now: Date): Promise<void> {
    const sql = createSql(settings.DATABASE_URL, { max: 2 });
    const started = Date.now();
    try {
      await runJob(name, sql, settings, now);
    } finally {
      await sql.end({ timeout: 5 }).catch(() => {});
      console.log(JSON.stringify({ level: 'INFO', event: 'job_finished', job: name, ms: Date.now() - started }));
    }
  }

  return {
    app,
    settings,
    pool,
    runJob(name, now = new Date()) {
      const run = job(name, now);
      track(run);
      return run;
    },
    pending: () => inflight.size,
    async close(timeoutMs = settings.SHUTDOWN_TIMEOUT_MS) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled([...inflight]), bound]);
      clearTimeout(timer);
      await Promise.all([pool.end({ timeout: 1 }).catch(() => {}), replica?.end({ timeout: 1 }).catch(() => {})]);
    },
  };
}
