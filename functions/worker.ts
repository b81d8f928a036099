/**
 * The Cloudflare Workers entry: the app over the Hyperdrive binding (a client per request,
 * Hyperdrive pools the connections), work after the response through `ctx.waitUntil`, and the
 * cron triggers (retention daily, the alert evaluator every minute) dispatched by their schedule.
 */
import type { ErrorBody } from '../shared/api';
import { createSql, releaseSql } from '../shared/db/client';
import { parseEnv, SCHEDULES, type Env, type WorkerEnv } from '../shared/env';
import { evaluateAlerts } from '../shared/alerting';
import { retentionPolicy, runRetentionJob } from '../shared/retention';
import { createApp } from './app';
import type { Database } from './types';

type App = ReturnType<typeof createApp>;

function hyperdrive(env: WorkerEnv): Database {
  return { acquire: () => createSql(env.HYPERDRIVE.connectionString), release: (sql) => releaseSql(sql) };
}

const apps = new WeakMap<Env, App>();

/** One app per bindings object: they are fixed for the isolate's life. */
function appFor(env: Env): App {
  let app = apps.get(env);
  if (!app) {
    const settings = parseEnv(env);
    app = createApp({ settings, database: hyperdrive(settings), defer: (c, promise) => c.executionCtx.waitUntil(promise) });
    apps.set(env, app);
  }
  return app;
}

/** Retention, with its summary (or its failure) logged into system_logs by the job itself. */
async function retention(env: WorkerEnv, now: Date): Promise<void> {
  const sql = createSql(env.HYPERDRIVE.connectionString);
  try {
    await runRetentionJob(sql, retentionPolicy(env), { now, flushTimeoutMs: 5_000 });
  } finally {
    await releaseSql(sql);
  }
}

/** One alert evaluation for the minute before `now`; failures go to the console (the evaluator's lag shows them). */
async function alerts(env: WorkerEnv, now: Date): Promise<void> {
  const sql = createSql(env.HYPERDRIVE.connectionString);
  try {
    const summary = await evaluateAlerts(sql, env, now, env.PUBLIC_URL);
    if (summary.errors.length) console.error(JSON.stringify({ level: 'ERROR', event: 'alert_evaluation', ...summary }));
  } catch (error) {
    console.error(JSON.stringify({ level: 'ERROR', event: 'alert_evaluation_failed', error: String(error) }));
  } finally {
    await releaseSql(sql);
  }
}

/** A misconfigured Worker answers every request with the envelope, its reason on the console. */
function misconfigured(error: unknown): Response {
  console.error(JSON.stringify({ level: 'CRITICAL', event: 'invalid_configuration', error: String(error) }));
  const body: ErrorBody = { code: 'INTERNAL', message: 'the service is misconfigured; see its logs', requestId: crypto.randomUUID() };
  return Response.json(body, { status: 500 });
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    let app: App;
    try {
      app = appFor(env);
    } catch (error) {
      return misconfigured(error);
    }
    return app.fetch(request, env, ctx);
  },
  scheduled(controller, env, ctx) {
    const settings = parseEnv(env);
    switch (controller.cron) {
      case SCHEDULES.retention:
        ctx.waitUntil(retention(settings, new Date(controller.scheduledTime)));
        break;
      case SCHEDULES.alerts:
        ctx.waitUntil(alerts(settings, new Date(controller.scheduledTime)));
        break;
      default:
        console.error(JSON.stringify({ level: 'ERROR', event: 'unknown_cron', cron: controller.cron }));
    }
  },
} satisfies ExportedHandler<Env>;
