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
import { createPooledHost } from './pooled';

const host = createPooledHost(process.env);
const { PORT, HOSTNAME, SHUTDOWN_TIMEOUT_MS } = host.settings;
const log = (event: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ level: 'INFO', event, host: 'node', ...fields }));

const server = serve({ fetch: host.app.fetch, port: PORT, hostname: HOSTNAME }, (info) =>
  log('listening', { url: `http://${HOSTNAME}:${info.port}` }),
);

const schedules = (Object.keys(SCHEDULES) as JobName[]).map(
  (name) => new Cron(SCHEDULES[name], { name, timezone: 'UTC', protect: true }, () => host.runJob(name)),
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const started = Date.now();
  log('stopping', { signal, pending: host.pending() });
  for (const schedule of schedules) schedule.stop();
  // close() stops accepting and ends idle keep-alive connections; requests in flight finish.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const forced = setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), SHUTDOWN_TIMEOUT_MS);
  await closed;
  clearTimeout(forced);
  await host.close(Math.max(0, SHUTDOWN_TIMEOUT_MS - (Date.now() - started)));
  log('stopped', { ms: Date.now() - started });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
