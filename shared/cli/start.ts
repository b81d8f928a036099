/**
 * npm start: the service on http://127.0.0.1:8787 (PORT overrides) under `wrangler dev`, after the
 * local stack (shared/cli/local-stack.ts: the database, migrated, and the QStash fallback).
 * Ctrl-C stops it all. `npm run start:node` and `start:deno` run the same on the pooled hosts.
 */
import { startWorker } from '../dev/wrangler';
import { SCHEDULES } from '../env';
import { runOnLocalStack } from './local-stack';

const port = Number(process.env.PORT ?? 8787);
const log = (line: string) => console.log(`[start] ${line}`);
const { service: worker, stopping } = await runOnLocalStack({
  port,
  log,
  start: (stack) => startWorker({ port, databaseUrl: stack.db.url, vars: stack.vars }),
});

// wrangler dev runs no cron by itself: fire the alert evaluator at the start of every minute
// (wrangler's --test-scheduled endpoint), as the deployed Worker's trigger does.
function fireEvaluatorEachMinute() {
  setTimeout(
    async () => {
      try {
        await fetch(`${worker.url}/__scheduled?cron=${encodeURIComponent(SCHEDULES.alerts)}`, { signal: AbortSignal.timeout(50_000) });
      } catch (error) {
        log(`alert evaluator trigger failed: ${(error as Error).message}`);
      }
      if (!stopping()) fireEvaluatorEachMinute();
    },
    60_000 - (Date.now() % 60_000),
  );
}
fireEvaluatorEachMinute();
log('create an ingest key:  npm run keys -- create <service|*>');
log(
  `then:  curl -X POST ${worker.url}/v1/ingest -H "Authorization: Bearer <key>" -H "Content-Type: application/json" -d '{"logs":[{"service":"execution","level":"INFO","message":"hello"}]}'`,
);
