/**
 * npm run start:node / start:deno: the service on a long-lived host (functions/node.ts or
 * functions/deno.ts, bundled first) at http://127.0.0.1:8787 (PORT overrides), after the local
 * stack (the database, migrated, and the QStash fallback) as `npm start` does. The host runs its
 * own schedules. Ctrl-C stops it gracefully, then the rest.
 */
import { startHost, type PooledHostName } from '../dev/hosts';
import { bundleHost } from './bundle';
import { runOnLocalStack } from './local-stack';

const host = process.argv[2] as PooledHostName;
if (host !== 'node' && host !== 'deno') {
  console.error('usage: tsx shared/cli/start-host.ts node|deno');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 8787);
const log = (line: string) => console.log(`[start:${host}] ${line}`);

log(`bundled ${await bundleHost(host)}`);
await runOnLocalStack({
  port,
  log,
  start: (stack) => startHost(host, { port, databaseUrl: stack.db.url, vars: stack.vars }),
});
log('create an ingest key:  npm run keys -- create <service|*>');
