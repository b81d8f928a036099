/**
 * npm run start:node / start:deno: the service on a long-lived host (functions/node.ts or
 * functions/deno.ts, bundled first) at http://127.0.0.1:8787 (PORT overrides), after the local
 * stack (the database, migrated, and the QStash fallback) as `npm start` does. The host runs its
 * own schedules. Ctrl-C stops it gracefully, then the rest.
 */
import { startHost, type HostProcess, type PooledHostName } from '../dev/hosts';
import { bundleHost } from './bundle';
import { startLocalStack } from './local-stack';

const host = process.argv[2] as PooledHostName;
if (host !== 'node' && host !== 'deno') {
  console.error('usage: tsx shared/cli/start-host.ts node|deno');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 8787);
const log = (line: string) => console.log(`[start:${host}] ${line}`);

log(`bundled ${await bundleHost(host)}`);
const stack = await startLocalStack({ port, log });
let server: HostProcess | undefined;
let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  await server?.stop();
  await stack.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  server = await startHost(host, { port, databaseUrl: stack.db.url, vars: stack.vars });
} catch (error) {
  log((error as Error).message);
  await stop(1);
}
server!.child.once('exit', (code) => void stop(code ?? 1));
log(`service ready at ${server!.url}`);
log('create an ingest key:  npm run keys -- create <service|*>');
