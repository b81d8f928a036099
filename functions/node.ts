/**
 * The Node entry: the app on @hono/node-server over one pool for the process, the schedules of
 * shared/env.ts on croner (UTC, a run never overlapping the previous one), and a graceful stop on
 * SIGTERM or SIGINT: stop the schedules and stop taking connections, let in-flight requests and
 * the work after them finish within SHUTDOWN_TIMEOUT_MS, then end the pool and exit.
 * Run it bundled (npm run build:hosts → dist/node.mjs), or with DATABASE_URL unset through
 * `npm run start:node`, which starts the embedded Postgres and local QStash first.
 */
import { serve } from '@hono/node-server';
import { Cron } from 'croner';
import { SCHEDULES } from '../shared/env';
import type { JobName } from './jobs';
import { createPooledHost, gracefulStop, hostLog } from './pooled';

const host = createPooledHost(process.env);
const { PORT, HOSTNAME } = host.settings;
const log = hostLog('node');

const server = serve({ fetch: host.app.fetch, port: PORT, hostname: HOSTNAME }, (info) =>
  log('listening', { url: `http://${HOSTNAME}:${info.port}` }),
);

const schedules = (Object.keys(SCHEDULES) as JobName[]).map(
  (name) => new Cron(SCHEDULES[name], { name, timezone: 'UTC', protect: true }, () => host.runJob(name)),
);

const stop = gracefulStop(host, {
  runtime: 'node',
  stopSchedules: () => {
    for (const schedule of schedules) schedule.stop();
  },
  // close() stops accepting and ends idle keep-alive connections; requests in flight finish.
  stopServer: () => new Promise<void>((resolve) => server.close(() => resolve())),
  exit: (code) => process.exit(code),
});
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
