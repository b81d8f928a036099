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
      await within(Promise.allSettled([...inflight]), timeoutMs);
      await Promise.all([pool.end({ timeout: 1 }).catch(() => {}), replica?.end({ timeout: 1 }).catch(() => {})]);
    },
  };
}

/** Waits for `promise` at most `ms`, then goes on (never rejects). */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([promise.catch(() => {}), bound]);
  clearTimeout(timer);
}

/** One JSON line on stdout for the host's own lifecycle events (listening, stopping, stopped). */
export function hostLog(runtime: string) {
  return (event: string, fields: Record<string, unknown> = {}) =>
    console.log(JSON.stringify({ level: 'INFO', event, host: runtime, ...fields }));
}

export interface StopHooks {
  /** Which runtime, for the log lines. */
  runtime: string;
  stopSchedules(): void;
  /** Stops taking connections; resolves when the requests in flight have been answered. */
  stopServer(): Promise<void>;
  exit(code: number): void;
}

/**
 * The graceful stop of both long-lived hosts, for SIGTERM and SIGINT (once, whatever arrives
 * next): stop the schedules, stop the server, and let the requests in flight and then the work
 * after them finish, all within SHUTDOWN_TIMEOUT_MS; then end the pool and exit.
 *
 * @example
 * const stop = gracefulStop(host, { runtime: 'node', stopSchedules, stopServer, exit: process.exit });
 * process.on('SIGTERM', () => void stop('SIGTERM'));
 */
export function gracefulStop(host: PooledHost, hooks: StopHooks): (signal: string) => Promise<void> {
  const log = hostLog(hooks.runtime);
  const limitMs = host.settings.SHUTDOWN_TIMEOUT_MS;
  let stopping = false;
  return async function stop(signal) {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    log('stopping', { signal, pending: host.pending() });
    hooks.stopSchedules();
    await within(hooks.stopServer(), limitMs);
    await host.close(Math.max(0, limitMs - (Date.now() - started)));
    log('stopped', { ms: Date.now() - started });
    hooks.exit(0);
  };
}
