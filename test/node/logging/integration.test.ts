/**
 * The library against the real Worker (wrangler dev) and the real Postgres.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pino from 'pino';
import { createLogging } from '../../../shared/logging';
import pinoTransport from '../../../shared/logging/pino';
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

/** A spool directory of the test's own, removed after the file's tests. */
function spoolDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  spoolDirs.push(dir);
  return dir;
}
const spoolDirs: string[] = [];
afterAll(() => {
  for (const d of spoolDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A fixture in a Node process of its own: `node --import tsx`, not the tsx command, which runs the
 * script in a child process of its own, so that a SIGKILL would reach the wrapper and not the script.
 */
function runFixture(fixture: string, args: string[], env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', `test/node/fixtures/${fixture}`, ...args], {
    cwd: projectRoot,
    env: { ...process.env, LOG_INGEST_URL: worker.url, LOG_API_KEY: key, LOG_SPOOL_DIR: spoolDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function runClient(args: string[], env: Record<string, string>) {
  return runFixture('client-app.ts', args, env);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows stored for a correlation id, and how many distinct messages among them. */
async function storedOf(correlationId: string) {
  const [row] = await sql<{ rows: number; distinct: number }[]>`
    SELECT count(*)::int AS rows, count(DISTINCT message)::int AS distinct FROM logging.system_logs WHERE correlation_id = ${correlationId}`;
  return row!;
}

/** The messages of the records in a spool directory's batch files. */
function spooledRecords(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { logs?: { message: string }[] }).logs ?? [])
    .map((l) => l.message);
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

  it('with the endpoint down, exit is held no longer than the shutdown deadline, and what is left goes to the spool', async () => {
    const spool = spoolDir();
    const child = runClient(['hold', `dead-${crypto.randomUUID()}`, '50'], {
      LOG_INGEST_URL: 'http://127.0.0.1:1',
      SHUTDOWN_MS: '800',
      LOG_SPOOL_DIR: spool,
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    await new Promise<void>((r) => child.stdout!.on('data', (d) => String(d).includes('ready') && r()));
    const t0 = Date.now();
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    const held = Date.now() - t0;
    // It gives up as soon as the next retry would not fit before the 800 ms deadline.
    expect(held).toBeLessThan(2500);
    expect(stderr).toMatch(/50 records not delivered before the shutdown deadline; 50 of them written to the spool/);
    expect(spooledRecords(spool)).toHaveLength(50);
  });

  it('the endpoint down 10 s while a process logs 2,000 records/s with a 2,000-record queue: every record stored once', async () => {
    // The ratio of a 60 s outage at 1,700 records/s to the default 10,000-record queue.
    const proxy = await switchableProxy();
    await proxy.up();
    const cid = `outage-${crypto.randomUUID()}`;
    const child = runFixture('spool-app.ts', [cid, '2000', '14'], { LOG_INGEST_URL: proxy.url, LOG_MAX_QUEUE_SIZE: '2000' });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await sleep(2000);
    await proxy.down();
    await sleep(10_000);
    await proxy.up();
    expect(await exited).toBe(0);
    await proxy.down();
    const stats = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(stats).toMatchObject({ shipped: 28_000, dropped: 0, failed: 0, onDisk: 0 });
    expect(stats.spooled).toBeGreaterThan(10_000);
    expect(await storedOf(cid)).toEqual({ rows: 28_000, distinct: 28_000 });
  }, 180_000);

  it('a spool at its cap drops its oldest batches; the rest arrives, and the count is stored as a WARNING', async () => {
    const proxy = await switchableProxy();
    const cid = `cap-${crypto.randomUUID()}`;
    // A spilled batch (up to 1,000 records) is up to about 190 KB: a 300 KB cap holds one or two.
    const child = runFixture('spool-app.ts', [cid, '2000', '3'], {
      LOG_INGEST_URL: proxy.url,
      LOG_MAX_QUEUE_SIZE: '1000',
      LOG_SPOOL_MAX_BYTES: '300000',
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await sleep(4000);
    await proxy.up();
    expect(await exited).toBe(0);
    await proxy.down();
    const stats = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(stats.dropped).toBeGreaterThanOrEqual(500);
    expect(await storedOf(cid)).toEqual({ rows: 6000 - stats.dropped, distinct: 6000 - stats.dropped });
    const [warning] = await sql<{ level: string; data: { dropped: number; reason: string } }[]>`
      SELECT level, data FROM logging.system_logs WHERE service = 'execution' AND message LIKE 'logging dropped%' AND "timestamp" > now() - interval '1 minute'
      ORDER BY "timestamp" DESC LIMIT 1`;
    expect(warning).toMatchObject({ level: 'WARNING', data: { dropped: stats.dropped, reason: expect.stringMatching(/size cap/) } });
  }, 120_000);

  it('a spool file cut short by a crash costs that file only: the others are delivered at the next start', async () => {
    const spool = spoolDir();
    const cid = `cut-${crypto.randomUUID()}`;
    const batch = (from: number, n: number) =>
      JSON.stringify({
        logs: Array.from({ length: n }, (_, i) => ({
          id: crypto.randomUUID(),
          timestamp: new Date(Date.now() - 60_000 + from + i).toISOString(),
          service: 'execution',
          level: 'INFO',
          message: `left ${from + i}`,
          correlation_id: cid,
        })),
      });
    writeFileSync(path.join(spool, '1000-000000-100.json'), batch(0, 100));
    writeFileSync(path.join(spool, '1000-000001-100.json'), batch(100, 100).slice(0, 5000)); // died mid-write
    writeFileSync(path.join(spool, '1000-000002-100.json'), batch(200, 100));
    const child = runFixture('spool-app.ts', [cid], { LOG_SPOOL_DIR: spool });
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    const stored = await sql<{ message: string }[]>`SELECT message FROM logging.system_logs WHERE correlation_id = ${cid}`;
    expect(stored.map((r) => Number(r.message.slice(5))).sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => i),
      ...Array.from({ length: 100 }, (_, i) => 200 + i),
    ]);
    expect(readdirSync(spool)).toEqual([]);
  }, 60_000);

  it('SIGKILLed during an outage and started again: everything spooled before the kill is delivered', async () => {
    const proxy = await switchableProxy();
    await proxy.up();
    const spool = spoolDir();
    const cid = `kill-${crypto.randomUUID()}`;
    const env = { LOG_INGEST_URL: proxy.url, LOG_MAX_QUEUE_SIZE: '2000', LOG_SPOOL_DIR: spool };
    const child = runFixture('spool-app.ts', [cid, '2000', '60'], env);
    let logged = 0;
    let last = '';
    child.stdout!.on('data', (d) => {
      for (const m of String(d).matchAll(/logged (\d+) (.*)/g)) {
        logged = Number(m[1]);
        last = m[2]!;
      }
    });
    const killed = new Promise((r) => child.once('exit', r));
    await sleep(1500);
    await proxy.down();
    await sleep(5000);
    child.kill('SIGKILL');
    await killed;
    const onDisk = spooledRecords(spool);
    expect(onDisk.length).toBeGreaterThan(5000);
    await proxy.up();
    const again = runFixture('spool-app.ts', [cid], env);
    expect(await new Promise((r) => again.once('exit', r))).toBe(0);
    await proxy.down();
    const stored = new Set(
      (await sql<{ message: string }[]>`SELECT message FROM logging.system_logs WHERE correlation_id = ${cid}`).map((r) => r.message),
    );
    expect(onDisk.filter((m) => !stored.has(m))).toEqual([]);
    const { rows, distinct } = await storedOf(cid);
    expect(rows).toBe(distinct);
    // What was lost is what was in memory at the kill: the queue (2,000 records, the batch in
    // flight among them) and the batches being written to the spool (at most 2 of up to 1,000).
    const lost = logged - rows;
    console.log(`SIGKILL during the outage: logged ${logged}, spooled ${onDisk.length}, stored ${rows}, lost ${lost}; last stats ${last}`);
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(4000);
  }, 180_000);
});

describe('the library in other runtimes and as a built package', () => {
  const run = promisify(execFile);
  const env = () => ({ ...process.env, LOG_INGEST_URL: worker.url, LOG_API_KEY: key, LOG_SPOOL_DIR: 'off' });

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

  it('times a README-style service module under the service its path names, with a key scoped to it', async () => {
    const scoped = (await createKey(sql, { service: 'execution', name: 'scoped' })).key;
    const cid = `scoped-${crypto.randomUUID()}`;
    const { stdout, stderr } = await run(
      path.join(projectRoot, 'node_modules', '.bin', 'tsx'),
      ['test/node/fixtures/src/services/execution/order_manager.ts', cid],
      { cwd: projectRoot, env: { ...env(), LOG_API_KEY: scoped } },
    );
    expect(stderr).not.toMatch(/rejected|refused/);
    // The entry module's path names the service too, so the default service is not 'app'.
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ defaultService: 'execution', rejected: 0, failed: 0 });
    expect((await logsOf(cid)).map((l) => [l.service, l.message])).toEqual([['execution', 'Order created']]);
    const metrics = await sql<
      { service: string; operation: string; data: Record<string, unknown> | null; memory_usage_mb: string | null }[]
    >`
      SELECT service, operation, data, memory_usage_mb::text FROM logging.performance_logs WHERE correlation_id = ${cid} ORDER BY operation`;
    expect(metrics.map((m) => [m.service, m.operation, m.data])).toEqual([
      ['execution', 'create_order', null],
      ['execution', 'execute_trade', null],
      ['execution', 'settle_trade', { venue: 'XNAS' }],
    ]);
    expect(Number(metrics[1]!.memory_usage_mb)).toBeGreaterThan(1);
  }, 60_000);

  it('pino writing through the transport: levels mapped, msg, fields as data, name as service, columns', async () => {
    const scoped = (await createKey(sql, { service: 'strategy_engine', name: 'pino' })).key;
    const cid = `pino-${crypto.randomUUID()}`;
    const stream = await pinoTransport({ endpoint: worker.url, apiKey: scoped, env: {} });
    const logger = pino({ name: 'strategy_engine', level: 'trace' }, stream);
    const child = logger.child({ correlation_id: cid, event_type: 'strategy' });
    child.trace('t');
    child.debug({ step: 1 }, 'd');
    child.info({ symbol: 'AAPL', signal: 0.8, api_key: 'live-1' }, 'Signal computed');
    child.warn('w');
    child.error({ err: new Error('venue down') }, 'e');
    child.fatal('f');
    // Ending the stream closes the transport, and its close() flushes the batch before 'close'.
    const closed = new Promise((resolve) => stream.on('close', resolve));
    stream.end();
    await closed;
    const rows = await sql<{ service: string; level: string; message: string; data: Record<string, unknown> | null; event_type: string }[]>`
      SELECT service, level, message, data, event_type FROM logging.system_logs WHERE correlation_id = ${cid}`;
    // pino's time has millisecond resolution: several records share one, so compare by message.
    const byMessage = new Map(rows.map((r) => [r.message, r]));
    expect(
      ['t', 'd', 'Signal computed', 'w', 'e', 'f'].map((m) => [
        byMessage.get(m)?.service,
        byMessage.get(m)?.level,
        byMessage.get(m)?.event_type,
      ]),
    ).toEqual([
      ['strategy_engine', 'DEBUG', 'strategy'],
      ['strategy_engine', 'DEBUG', 'strategy'],
      ['strategy_engine', 'INFO', 'strategy'],
      ['strategy_engine', 'WARNING', 'strategy'],
      ['strategy_engine', 'ERROR', 'strategy'],
      ['strategy_engine', 'CRITICAL', 'strategy'],
    ]);
    expect(rows).toHaveLength(6);
    expect(byMessage.get('t')!.data).toBeNull();
    expect(byMessage.get('d')!.data).toEqual({ step: 1 });
    expect(byMessage.get('Signal computed')!.data).toEqual({ symbol: 'AAPL', signal: 0.8, api_key: '[REDACTED]' });
    expect(byMessage.get('e')!.data).toMatchObject({ err: { type: 'Error', message: 'venue down' } });
  }, 30_000);

  it('pack:client makes a tarball of the library alone that a scratch project installs and ships with', async () => {
    const { stdout: packed } = await run('npm', ['run', '-s', 'pack:client'], { cwd: projectRoot });
    const tarball = packed.trim().split('\n').at(-1)!;
    expect(path.basename(tarball)).toMatch(/^trading-log-ingest-\d+\.\d+\.\d+\.tgz$/);
    const { stdout: listing } = await run('tar', ['tzf', tarball]);
    const files = listing.trim().split('\n');
    expect(files).toContain('package/logging/index.js');
    expect(files).toContain('package/logging/pino/index.js');
    expect(files.filter((f) => !/^package\/(logging\/|api\/(levels|wire)\.|package\.json$|README\.md$)/.test(f))).toEqual([]);
    const project = mkdtempSync(path.join(os.tmpdir(), 'client-project-'));
    spoolDirs.push(project);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: project });
    const installed = readdirSync(path.join(project, 'node_modules')).filter((f) => !f.startsWith('.'));
    expect(installed).toEqual(['trading-log-ingest']); // no dependency came with it
    const cid = `packed-${crypto.randomUUID()}`;
    await writeFile(
      path.join(project, 'app.mjs'),
      `import { createLogging, withCorrelation } from 'trading-log-ingest/logging';
const logging = createLogging({ endpoint: process.env.LOG_INGEST_URL, apiKey: process.env.LOG_API_KEY, console: false, env: {} });
withCorrelation(${JSON.stringify(cid)}, () => logging.getServiceLogger('analytics').info('from the packed client', { rows: 1 }));
await logging.flush();
console.log(JSON.stringify(logging.stats()));`,
    );
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: project, env: env() });
    expect(JSON.parse(stdout.trim())).toMatchObject({ shipped: 1 });
    expect((await logsOf(cid)).map((l) => [l.service, l.message])).toEqual([['analytics', 'from the packed client']]);
  }, 120_000);

  it('builds to JavaScript with type declarations, importable as <package>/logging', async () => {
    await run('npm', ['run', '-s', 'build'], { cwd: projectRoot });
    expect(existsSync(path.join(projectRoot, 'dist/logging/index.d.ts'))).toBe(true);
    const cid = `built-${crypto.randomUUID()}`;
    const { stdout } = await run(process.execPath, ['test/node/fixtures/built-client.mjs', cid], { cwd: projectRoot, env: env() });
    expect(JSON.parse(stdout.trim())).toMatchObject({ shipped: 1 });
    expect((await logsOf(cid)).map((l) => [l.service, l.message])).toEqual([['data_ingestion', 'Bars fetched from the built package']]);
    // The pino transport as pino loads it: by its package subpath, in a worker thread.
    const pinoCid = `built-pino-${crypto.randomUUID()}`;
    await run(process.execPath, ['test/node/fixtures/built-pino.mjs', pinoCid], { cwd: projectRoot, env: env() });
    expect((await logsOf(pinoCid)).map((l) => [l.service, l.level, l.message, l.data])).toEqual([
      ['analytics', 'INFO', 'Report built through the pino worker', { rows: 7 }],
    ]);
  }, 60_000);
});
