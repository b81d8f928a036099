/**
 * The library against the real Worker (wrangler dev) and the real Postgres.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogging } from '../../../shared/logging';
import { createSql } from '../../../shared/db/client';
import { createKey } from '../../../shared/db/api-keys';
import { freePort, projectRoot } from '../../../shared/dev/postgres';
import { startWorker, type WorkerProcess } from '../../../shared/dev/wrangler';

const databaseUrl = inject('databaseUrl');
const sql = createSql(databaseUrl, { max: 2 });
let worker: WorkerProcess;
let key: string;

beforeAll(async () => {
  worker = await startWorker({ port: await freePort(), databaseUrl, stdio: 'ignore' });
  key = (await createKey(sql, { service: '*', name: 'integration' })).key;
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await sql.end();
});

/** An HTTP front for the worker that can be taken down (connections refused) and brought back on the same port. */
async function switchableProxy() {
  const port = await freePort();
  let server: http.Server | undefined;
  const up = () =>
    new Promise<void>((resolve) => {
      server = http.createServer((req, res) => {
        const upstream = http.request(`${worker.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
      server = undefined;
    });
  return { url: `http://127.0.0.1:${port}`, up, down };
}

function runClient(args: string[], env: Record<string, string>) {
  return spawn(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), ['test/node/fixtures/client-app.ts', ...args], {
    cwd: projectRoot,
    env: { ...process.env, LOG_INGEST_URL: worker.url, LOG_API_KEY: key, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function logsOf(correlationId: string) {
  return sql<
    { id: string; service: string; level: string; message: string; data: Record<string, unknown> | null; event_type: string | null }[]
  >`
    SELECT id::text, service, level, message, data, event_type FROM logging.system_logs WHERE correlation_id = ${correlationId} ORDER BY "timestamp"`;
}

describe('client library → Worker → Postgres', () => {
  it('a Node service process ships logs and metrics with service, level, data and correlation id, and flushes when it exits', async () => {
    const cid = `it-${crypto.randomUUID()}`;
    const child = runClient(['normal', cid], {});
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    const logs = await logsOf(cid);
    expect(logs.map((l) => [l.service, l.level, l.message])).toEqual([
      ['execution', 'WARNING', 'Slow venue'],
      ['execution', 'INFO', 'Order created'],
      ['execution', 'CRITICAL', 'Position limit breached'],
    ]);
    expect(logs[0]!.data).toEqual({ venue: 'XNAS', latency_ms: 900 });
    expect(logs[1]!.data).toEqual({ order_id: 'ORD123', symbol: 'AAPL', quantity: 100, price: 150.25 });
    expect(logs[2]!.event_type).toBe('trading');
    const metrics = await sql<{ operation: string; t: number; mem: number | null; service: string }[]>`
      SELECT operation, execution_time_ms::float8 AS t, memory_usage_mb::float8 AS mem, service FROM logging.performance_logs WHERE correlation_id = ${cid} ORDER BY "timestamp"`;
    expect(metrics.map((m) => [m.service, m.operation])).toEqual([
      ['execution', 'validate_order'],
      ['execution', 'create_order'],
    ]);
    expect(metrics[0]!.mem).toBeGreaterThan(1);
    expect(metrics[1]!.t).toBeGreaterThanOrEqual(14);
  });

  it('ingest down for a while, then back: everything arrives, once', async () => {
    const proxy = await switchableProxy();
    const cid = `down-${crypto.randomUUID()}`;
    const logging = createLogging({
      endpoint: proxy.url,
      apiKey: key,
      batchSize: 50,
      flushIntervalMs: 100,
      retryBaseMs: 50,
      maxRetryDelayMs: 400,
      console: false,
      env: {},
      stderr: () => {},
    });
    const log = logging.getServiceLogger('execution');
    const N = 500;
    for (let i = 0; i < N / 2; i++) log.info(`r${i}`, { correlation_id: cid, i });
    await new Promise((r) => setTimeout(r, 1000));
    expect(logging.stats()!.shipped).toBe(0);
    await proxy.up();
    for (let i = N / 2; i < N; i++) log.info(`r${i}`, { correlation_id: cid, i });
    await logging.flush({ timeoutMs: 30_000 });
    await proxy.down();
    const rows = await logsOf(cid);
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.message)).size).toBe(N);
    expect(logging.stats()).toMatchObject({ shipped: N, dropped: 0, failed: 0 });
  });

  it('10,001 records queued with the endpoint down: the oldest queued one is dropped and the count reported', async () => {
    const proxy = await switchableProxy();
    const cid = `full-${crypto.randomUUID()}`;
    const service = `svc_${cid.slice(5, 13)}`;
    const logging = createLogging({
      endpoint: proxy.url,
      apiKey: key,
      service,
      batchSize: 500,
      flushIntervalMs: 60_000,
      retryBaseMs: 50,
      maxRetryDelayMs: 200,
      console: false,
      env: {},
      stderr: () => {},
    });
    const log = logging.getServiceLogger(service);
    for (let i = 0; i < 10_001; i++) log.info(`q${i}`, { correlation_id: cid });
    expect(logging.stats()).toMatchObject({ dropped: 1 });
    await proxy.up();
    await logging.flush({ timeoutMs: 60_000 });
    await proxy.down();
    const rows = await logsOf(cid);
    expect(rows).toHaveLength(10_000);
    const present = new Set(rows.map((r) => r.message));
    const missing = Array.from({ length: 10_001 }, (_, i) => `q${i}`).filter((m) => !present.has(m));
    expect(missing).toEqual(['q500']); // q0-q499 were in flight; q500 was the oldest queued
    const [warning] = await sql<{ level: string; data: { dropped: number } }[]>`
      SELECT level, data FROM logging.system_logs WHERE service = ${service} AND message LIKE 'logging dropped%'`;
    expect(warning).toMatchObject({ level: 'WARNING', data: { dropped: 1 } });
  }, 90_000);

  it('SIGTERM flushes the queue before the process exits', async () => {
    const cid = `term-${crypto.randomUUID()}`;
    const child = runClient(['hold', cid, '250'], {});
    await new Promise<void>((r) => child.stdout!.on('data', (d) => String(d).includes('ready') && r()));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const exit = await new Promise<[number | null, string | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
    // Exits as SIGTERM would (tsx, in between, reports it as code 143 = 128 + 15).
    expect(exit[1] === 'SIGTERM' || exit[0] === 143).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await logsOf(cid)).toHaveLength(250);
  });

  it('with the endpoint down, exit is held no longer than the shutdown deadline', async () => {
    const child = runClient(['hold', `dead-${crypto.randomUUID()}`, '50'], { LOG_INGEST_URL: 'http://127.0.0.1:1', SHUTDOWN_MS: '800' });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    await new Promise<void>((r) => child.stdout!.on('data', (d) => String(d).includes('ready') && r()));
    const t0 = Date.now();
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    const held = Date.now() - t0;
    // It gives up as soon as the next retry would not fit before the 800 ms deadline.
    expect(held).toBeLessThan(2500);
    expect(stderr).toMatch(/50 records not delivered before the shutdown deadline/);
  });
});

describe('the library in other runtimes and as a built package', () => {
  const run = promisify(execFile);
  const env = () => ({ ...process.env, LOG_INGEST_URL: worker.url, LOG_API_KEY: key });

  it('runs unchanged in Deno', async () => {
    const cid = `deno-${crypto.randomUUID()}`;
    const { stdout } = await run(
      path.join(projectRoot, 'node_modules', '.bin', 'deno'),
      ['run', '--allow-env', '--allow-net', '--allow-read', '--no-lock', 'test/node/fixtures/deno-client.ts', cid],
      { cwd: projectRoot, env: env() },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ shipped: 2, failed: 0 });
    expect((await logsOf(cid)).map((l) => [l.service, l.message, l.data])).toEqual([
      ['analytics', 'Report generated in Deno', { rows: 42 }],
    ]);
  });

  it('builds to JavaScript with type declarations, importable as <package>/logging', async () => {
    await run('npm', ['run', '-s', 'build'], { cwd: projectRoot });
    expect(existsSync(path.join(projectRoot, 'dist/logging/index.d.ts'))).toBe(true);
    const cid = `built-${crypto.randomUUID()}`;
    const { stdout } = await run(process.execPath, ['test/node/fixtures/built-client.mjs', cid], { cwd: projectRoot, env: env() });
    expect(JSON.parse(stdout.trim())).toMatchObject({ shipped: 1 });
    expect((await logsOf(cid)).map((l) => [l.service, l.message])).toEqual([['data_ingestion', 'Bars fetched from the built package']]);
  }, 60_000);
});
