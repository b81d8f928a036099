/**
 * One HTTP-level suite, run against each host as a process at its base URL: the Worker under
 * `wrangler dev`, and the bundled Node and Deno hosts (dist/node.mjs, dist/deno.mjs) on one shared
 * Postgres. Each host gets its own services, keys and rule, so the three never see each other's
 * records. The alert evaluator is fired on demand through its CLI, as an operator would.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHost } from '../../shared/cli/bundle';
import { createKey } from '../../shared/db/api-keys';
import { createSql, type Sql } from '../../shared/db/client';
import { startHost, type PooledHostName } from '../../shared/dev/hosts';
import { freePort, projectRoot, startScratchDatabase, type Database } from '../../shared/dev/postgres';
import { DEV_CREDENTIALS, signRequest } from '../../shared/dev/qstash/signing';
import { startWorker } from '../../shared/dev/wrangler';

type HostName = 'workers' | PooledHostName;
const HOSTS: HostName[] = ['workers', 'node', 'deno'];

let db: Database;
let sql: Sql;

beforeAll(async () => {
  db = await startScratchDatabase('hosts');
  sql = createSql(db.url, { max: 2 });
  await Promise.all([bundleHost('node'), bundleHost('deno')]);
}, 120_000);

afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await db?.stop();
});

/** Starts one host on a free port with the signing keys; resolves to its base URL and stop(). */
async function start(host: HostName) {
  const port = await freePort();
  const vars = {
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
    SHUTDOWN_TIMEOUT_MS: '2000',
  };
  const stdio = process.env.DEBUG_HOSTS ? 'inherit' : 'ignore';
  if (host === 'workers') return startWorker({ port, databaseUrl: db.url, vars, stdio });
  return startHost(host, { port, databaseUrl: db.url, vars, stdio });
}

const run = promisify(execFile);
/** `npm run alerts -- evaluate --now T`, the CLI an operator fires the evaluator with. */
async function evaluateAlerts(now: Date): Promise<void> {
  await run(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), ['shared/cli/alerts.ts', 'evaluate', '--now', now.toISOString()], {
    cwd: projectRoot,
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('QSTASH_'))), DATABASE_URL: db.url },
    timeout: 60_000,
  });
}

/** Reads a Server-Sent Events stream until `match` appears in it, or gives up after `ms`. */
async function readEventsUntil(res: Response, match: string, ms: number): Promise<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const deadline = setTimeout(() => void reader.cancel(), ms);
  try {
    while (!text.includes(match)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
  return text;
}

describe.each(HOSTS)('the service on %s', (host) => {
  const service = `svc_${host}`;
  let base: string;
  let stop: () => Promise<void>;
  let child: ChildProcess;
  let ingestKey: string;
  let readKey: string;
  let adminKey: string;

  beforeAll(async () => {
    const process = await start(host);
    base = process.url;
    stop = () => process.stop();
    child = process.child;
    ingestKey = (await createKey(sql, { service, scopes: ['ingest'], name: host })).key;
    readKey = (await createKey(sql, { service, scopes: ['read'], name: host })).key;
    adminKey = (await createKey(sql, { service: '*', scopes: ['admin', 'read'], name: host })).key;
  }, 180_000);

  afterAll(async () => {
    await stop?.();
  });

  const post = (route: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (route: string, key = readKey) => fetch(`${base}${route}`, { headers: { authorization: `Bearer ${key}` } });

  it('is healthy', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('refuses a missing key (401) and a key without the scope (403) in the error envelope', async () => {
    const none = await fetch(`${base}/v1/ingest`, { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'UNAUTHORIZED', requestId: expect.any(String) });
    const wrongScope = await post('/v1/ingest', readKey, { logs: [] });
    expect(wrongScope.status).toBe(403);
    expect(await wrongScope.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('stores the valid records of a batch, reports the invalid one, and stores a resend once', async () => {
    const id = crypto.randomUUID();
    const timestamp = new Date(Date.now() - 1000).toISOString();
    const batch = {
      logs: [
        { id, timestamp, service, level: 'INFO', message: 'order placed', correlation_id: `trade-${host}`, data: { order_id: 'ORD-1' } },
        { service, level: 'LOUD', message: 'bad level' },
      ],
      metrics: [{ service, operation: 'place_order', execution_time_ms: 12.5, correlation_id: `trade-${host}`, timestamp }],
    };
    const first = await post('/v1/ingest', ingestKey, batch);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ accepted: 2, duplicates: 0, rejected: [{ index: 1, kind: 'log' }] });
    const again = await post('/v1/ingest', ingestKey, { logs: [batch.logs[0]] });
    expect(await again.json()).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it('stores a replay signed as QStash signs it, and refuses a bad signature', async () => {
    const body = JSON.stringify({
      v: 1,
      logs: [{ id: crypto.randomUUID(), timestamp: new Date().toISOString(), service, level: 'WARNING', message: 'replayed' }],
      metrics: [],
    });
    const send = async (key: string) =>
      fetch(`${base}/v1/replay`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'upstash-message-id': `msg_${crypto.randomUUID()}`,
          'upstash-signature': await signRequest({ key, url: `${base}/v1/replay`, body }),
        },
        body,
      });
    expect((await send('sig_not_the_key')).status).toBe(401);
    const res = await send(DEV_CREDENTIALS.currentSigningKey);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ stored: 1, duplicates: 0 });
  });

  it('takes OTLP JSON logs', async () => {
    const res = await post('/otlp/v1/logs', ingestKey, {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: `${BigInt(Date.now() - 500) * 1_000_000n}`, severityNumber: 17, body: { stringValue: 'otlp error' } },
              ],
            },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it('reads the records back: a filtered page and the trace timeline', async () => {
    const page = await get(`/v1/logs?service=${service}&level=WARNING`);
    expect(page.status).toBe(200);
    const { logs } = (await page.json()) as { logs: { message: string }[] };
    expect(logs.map((l) => l.message).sort()).toEqual(['otlp error', 'replayed']);
    const trace = await get(`/v1/traces/trade-${host}`);
    const timeline = (await trace.json()) as { events: { kind: string }[] };
    expect(timeline.events.map((e) => e.kind).sort()).toEqual(['log', 'metric']);
  });

  it('streams a new log to a live tail', async () => {
    const tail = await get(`/v1/tail?service=${service}&level=ERROR`);
    expect(tail.status).toBe(200);
    expect(tail.headers.get('content-type')).toMatch(/text\/event-stream/);
    const message = `tailed ${crypto.randomUUID()}`;
    const seen = readEventsUntil(tail, message, 15_000);
    await post('/v1/ingest', ingestKey, { logs: [{ service, level: 'ERROR', message }] });
    expect(await seen).toMatch(new RegExp(`event: log\\ndata: .*${message}`));
  });

  it('keeps an alert rule and fires it when the evaluator runs', async () => {
    const rule = `errors-${host}`;
    const put = await fetch(`${base}/v1/alerts/rules/${rule}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: rule,
        kind: 'log_threshold',
        filter: { service, level: 'ERROR' },
        window: '5m',
        thresholds: { critical: 0 },
      }),
    });
    expect(put.status).toBeLessThan(300);
    // A later minute than any the host's own schedule may have evaluated already.
    await evaluateAlerts(new Date(Date.now() + 2 * 60_000));
    const res = await get(`/v1/alerts/instances?rule=${rule}`, adminKey);
    expect(((await res.json()) as { instances: { state: string; severity: string | null }[] }).instances).toMatchObject([
      { state: 'firing', severity: 'critical' },
    ]);
  }, 90_000);

  // The pooled hosts' own graceful stop (wrangler dev's is wrangler's).
  if (host === 'workers') return;
  it('on SIGTERM stops within SHUTDOWN_TIMEOUT_MS, even with a request still open, and exits 0', async () => {
    const tail = await get(`/v1/tail?service=${service}`); // in flight until the host goes
    expect(tail.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000 + 1_500);
    await tail.body?.cancel().catch(() => {});
  });
});
