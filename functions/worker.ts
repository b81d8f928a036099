/**
 * The Cloudflare Workers entry: the app over the Hyperdrive binding (a client per request,
 * Hyperdrive pools the connections), work after the response through `ctx.waitUntil`, and the
 * cron triggers (retention daily, the alert evaluator every minute) dispatched by their schedule
 * (functions/jobs.ts).
 */
import type { ErrorBody } from '../shared/api';
import { createSql, releaseSql } from '../shared/db/client';
import { parseEnv, type Env, type WorkerEnv } from '../shared/env';
import { createApp } from './app';
import { jobOf, runJob, type JobName } from './jobs';
import type { Database } from './types';

type App = ReturnType<typeof createApp>;

function hyperdrive(env: WorkerEnv): Database {
  const replica = env.HYPERDRIVE_READ;
  return {
    acquire: () => createSql(env.HYPERDRIVE.connectionString),
    release: (sql) => releaseSql(sql),
    ...(replica ? { acquireReplica: () => createSql(replica.connectionString) } : {}),
  };
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

/** A scheduled job on its own client (Hyperdrive pools the connections), released after it. */
async function scheduled(env: WorkerEnv, job: JobName, now: Date): Promise<void> {
  const sql = createSql(env.HYPERDRIVE.connectionString);
  try {
    await runJob(job, sql, env, now);
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
    const job = jobOf(controller.cron);
    if (!job) {
      console.error(JSON.stringify({ level: 'ERROR', event: 'unknown_cron', cron: controller.cron }));
      return;
    }
    ctx.waitUntil(scheduled(parseEnv(env), job, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Env>;
