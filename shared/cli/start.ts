/**
 * npm start: the service on http://127.0.0.1:8787 (PORT overrides) under `wrangler dev`.
 * DATABASE_URL unset: an embedded Postgres with its data in .data/pg. Either way the database is
 * migrated and the coming days' partitions made before the Worker starts. Ctrl-C stops it all.
 */
import { createSql } from '../db/client';
import { migrate, openDatabase } from '../dev/postgres';
import { startLocalQStash, type LocalQStash } from '../dev/qstash/server';
import { DEV_CREDENTIALS } from '../dev/qstash/signing';
import { startWorker, type WorkerProcess } from '../dev/wrangler';
import { parseSettings, SCHEDULES } from '../env';
import { ensurePartitions } from '../retention';
import { DAY_MS } from '../time';

const port = Number(process.env.PORT ?? 8787);
const log = (line: string) => console.log(`[start] ${line}`);

const db = await openDatabase({ log: (l) => process.env.DEBUG && console.log(`[postgres] ${l}`) });
log(
  db.startedHere
    ? `embedded Postgres ready (${db.url.replace(/:[^:@/]+@/, ':***@')})`
    : `using ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'the running embedded Postgres'}`,
);
log(`migrations: ${(await migrate(db.url)).trim().replace(/\n/g, '; ') || 'up to date'}`);
const sql = createSql(db.url, { max: 1 });
const premakeDays = parseSettings(process.env).PARTITION_PREMAKE_DAYS;
const created = await ensurePartitions(sql, new Date(Date.now() - DAY_MS), new Date(Date.now() + premakeDays * DAY_MS));
await sql.end();
log(`partitions ready (${created} created)`);

// The zero-loss fallback: QSTASH_URL set (the official dev server or the real service) is used as
// it is, with QSTASH_TOKEN and the signing keys from the environment; unset, a local
// QStash-compatible server with the official dev server's credentials.
let qstash: LocalQStash | undefined;
const qstashVars: Record<string, string> = { PUBLIC_URL: process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}` };
if (process.env.QSTASH_URL) {
  qstashVars.QSTASH_URL = process.env.QSTASH_URL;
  for (const name of ['QSTASH_TOKEN', 'QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY'] as const) {
    if (process.env[name]) qstashVars[name] = process.env[name]!;
  }
  log(`QStash: ${process.env.QSTASH_URL}`);
} else {
  qstash = await startLocalQStash({ port: Number(process.env.QSTASH_PORT ?? 8080), log: (l) => console.log(`[qstash] ${l}`) });
  Object.assign(qstashVars, {
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: DEV_CREDENTIALS.token,
    QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
  });
  log(`local QStash on ${qstash.url} (QSTASH_URL unset)`);
}

let worker: WorkerProcess | undefined;
let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  await worker?.stop();
  await qstash?.stop();
  await db.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  worker = await startWorker({ port, databaseUrl: db.url, vars: qstashVars });
} catch (error) {
  log((error as Error).message);
  await stop(1);
}
worker!.child.once('exit', (code) => void stop(code ?? 1));
log(`service ready at ${worker!.url}`);

// wrangler dev runs no cron by itself: fire the alert evaluator at the start of every minute
// (wrangler's --test-scheduled endpoint), as the deployed Worker's trigger does.
function fireEvaluatorEachMinute() {
  setTimeout(
    async () => {
      try {
        await fetch(`${worker!.url}/__scheduled?cron=${encodeURIComponent(SCHEDULES.alerts)}`, { signal: AbortSignal.timeout(50_000) });
      } catch (error) {
        log(`alert evaluator trigger failed: ${(error as Error).message}`);
      }
      if (!stopping) fireEvaluatorEachMinute();
    },
    60_000 - (Date.now() % 60_000),
  );
}
fireEvaluatorEachMinute();
log('create an ingest key:  npm run keys -- create <service|*>');
log(
  `then:  curl -X POST ${worker!.url}/v1/ingest -H "Authorization: Bearer <key>" -H "Content-Type: application/json" -d '{"logs":[{"service":"execution","level":"INFO","message":"hello"}]}'`,
);
