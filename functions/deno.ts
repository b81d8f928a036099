/**
 * The Deno entry: the app on Deno.serve over one pool for the process, the schedules of
 * shared/env.ts on Deno.cron (UTC; `--unstable-cron` outside Deno Deploy), and a graceful stop on
 * SIGTERM or SIGINT: stop the schedules, let Deno.serve finish the requests in flight, the work
 * after them within SHUTDOWN_TIMEOUT_MS, then end the pool and exit.
 * Run it bundled (npm run build:hosts → dist/deno.mjs), or with DATABASE_URL unset through
 * `npm run start:deno`, which starts the embedded Postgres and local QStash first.
 */
import { SCHEDULES } from '../shared/env';
import type { JobName } from './jobs';
import { createPooledHost, gracefulStop, hostLog } from './pooled';

/** The part of the Deno namespace used here (the project type-checks without Deno's lib). */
interface DenoRuntime {
  env: { toObject(): Record<string, string> };
  serve(
    options: { port: number; hostname: string; onListen?: (address: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
  cron(name: string, schedule: string, options: { signal: AbortSignal }, handler: () => Promise<void>): Promise<void>;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
}
declare const Deno: DenoRuntime;

const host = createPooledHost(Deno.env.toObject());
const { PORT, HOSTNAME } = host.settings;
const log = hostLog('deno');

const server = Deno.serve(
  { port: PORT, hostname: HOSTNAME, onListen: ({ port }) => log('listening', { url: `http://${HOSTNAME}:${port}` }) },
  (request) => host.app.fetch(request),
);

const schedules = new AbortController();
for (const name of Object.keys(SCHEDULES) as JobName[]) {
  void Deno.cron(name, SCHEDULES[name], { signal: schedules.signal }, () => host.runJob(name));
}

const stop = gracefulStop(host, {
  runtime: 'deno',
  stopSchedules: () => schedules.abort(),
  stopServer: () => server.shutdown(),
  exit: (code) => Deno.exit(code),
});
Deno.addSignalListener('SIGTERM', () => void stop('SIGTERM'));
Deno.addSignalListener('SIGINT', () => void stop('SIGINT'));
