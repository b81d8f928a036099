/**
 * npm run bench:ingest [-- --host workers|node|deno|all --records 200000 --batch 1000 --concurrency 4
 *                         --rounds 3 --gzip --copy-timeout 60 --timeout 900]
 *
 * Posts N system logs through each host named (the Worker under `wrangler dev`, the bundled Node
 * and Deno hosts with their pool; default workers; a comma list or `all`) with auth, validation
 * and the idempotent insert in place, then writes the same rows with COPY into the same, emptied
 * table and indexes: the physical limit of this machine. Prints the rates and the ratios to COPY,
 * the hosts and COPY side by side in each round.
 *
 * The COPY writes exactly the columns ingest writes (shared/ingest/sql.ts, insertBatch), including
 * retention_class, computed here as logging.retention_class(level, event_type) computes it.
 *
 * Every COPY has a timeout (--copy-timeout, seconds; shared/db/copy.ts: postgres.js 3 never settled
 * the stream of a failed COPY, porsager/postgres#1173) and the whole benchmark one too (--timeout,
 * seconds); either ends the benchmark with a message and exit code 1.
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import { createSql, type Sql } from '../../shared/db/client';
import { createKey } from '../../shared/db/api-keys';
import { copyIn } from '../../shared/db/copy';
import { retentionClass } from '../../shared/ingest/sql';
import { migrate, startScratchDatabase, type Database } from '../../shared/dev/postgres';
import { hostsOf, startBenchHost, type BenchHost } from './hosts';
import { ownCpuSeconds, postgresCpuSeconds, treeCpuSeconds } from './cpu';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    gzip: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    host: { type: 'string', default: 'workers' },
    'copy-timeout': { type: 'string', default: '60' },
    timeout: { type: 'string', default: '900' },
  },
});
const N = Number(values.records);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const COPY_TIMEOUT_S = Number(values['copy-timeout']);
const TIMEOUT_S = Number(values.timeout);
for (const [name, v] of Object.entries({
  records: N,
  batch: BATCH,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
  'copy-timeout': COPY_TIMEOUT_S,
  timeout: TIMEOUT_S,
})) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
}

type Host = BenchHost;
const HOSTS = hostsOf(values.host!);

const SERVICES = ['execution', 'risk_management', 'strategy_engine', 'data_ingestion', 'analytics', 'notification'];
const LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARNING', 'ERROR'];

interface Row {
  id: string;
  timestamp: string;
  service: string;
  level: string;
  message: string;
  data: Record<string, unknown>;
  correlation_id: string | null;
  event_type: string | null;
}

function makeRows(n: number): Row[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    timestamp: new Date(now - (n - i) * 5).toISOString(),
    service: SERVICES[i % SERVICES.length]!,
    level: LEVELS[i % LEVELS.length]!,
    message: `Order ${i} routed to venue ${i % 7}`,
    data: { order_id: `ORD${i}`, symbol: ['AAPL', 'MSFT', 'NVDA', 'TSLA'][i % 4], quantity: (i % 50) * 10, price: 100 + (i % 1000) / 100 },
    correlation_id: `trade-${Math.floor(i / 10)}`,
    event_type: 'trading',
  }));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** POST with node:http and a keep-alive agent: a lean client, so the machine's cores go to the service. */
function post(url: string, headers: Record<string, string>, body: string | Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** A CSV field: NULL as an empty unquoted field, anything else quoted. */
const csv = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);

/** The COPY writes the class as ingest computes it (retentionClass); checked against the database's function first. */

async function checkRetentionClass(sql: Sql) {
  const levels = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
  const eventTypes = [null, 'trading', 'system', 'performance', 'Trading', ''];
  for (const level of levels) {
    for (const eventType of eventTypes) {
      const [row] = await sql<{ c: string }[]>`SELECT logging.retention_class(${level}, ${eventType}::text) AS c`;
      if (row!.c !== retentionClass(level, eventType)) {
        throw new Error(
          `retention class of (${level}, ${eventType}): the database says ${row!.c}, the benchmark ${retentionClass(level, eventType)}`,
        );
      }
    }
  }
}

/** The columns ingest writes (shared/ingest/sql.ts, insertBatch), in its order; the COPY below names them. */
const COPY_COLUMNS = 'id, service, level, message, data, correlation_id, event_type, "timestamp", retention_class';

function toCsv(batch: Row[]): string {
  return (
    batch
      .map((r) =>
        [
          r.id,
          csv(r.service),
          csv(r.level),
          csv(r.message),
          csv(JSON.stringify(r.data)),
          csv(r.correlation_id),
          csv(r.event_type),
          r.timestamp,
          retentionClass(r.level, r.event_type),
        ].join(','),
      )
      .join('\n') + '\n'
  );
}

/** One COPY of one batch, rejected when its stream has not finished after COPY_TIMEOUT_S. */
async function copyBatch(sql: Sql, text: string, rows: number) {
  try {
    await copyIn(
      sql`COPY logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", retention_class)
          FROM STDIN WITH (FORMAT csv)`,
      text,
      COPY_TIMEOUT_S * 1000,
    );
  } catch (error) {
    throw new Error(
      `COPY of ${rows} rows into logging.system_logs failed: ${(error as Error).message}. ` +
        `Compare the COPY's columns (${COPY_COLUMNS}) with the table and insertBatch in shared/ingest/sql.ts.`,
      { cause: error },
    );
  }
}

/** Each batch made into CSV and copied, CONCURRENCY at a time (the CSV is made inside the timing, as ingest parses inside it). */
async function copyRows(sql: Sql, batches: Row[][]) {
  await pool(batches, CONCURRENCY, (batch) => copyBatch(sql, toCsv(batch), batch.length));
}

async function count(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs`;
  return row!.n;
}

/** Waits for `promise` at most `ms`, then goes on, saying so (cleanup must not hang the exit). */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => {},
      (error) => console.error(`${what} failed:`, error),
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        console.error(`${what} did not finish within ${ms / 1000} s; left behind`);
        resolve();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** What main started, stopped in reverse order by cleanup(), whether main ends, fails or times out. */
const started: { db?: Database; sql?: Sql; hosts: { name: Host; url: string; pid: number; stop(): Promise<void> }[] } = { hosts: [] };
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    agent.destroy();
    for (const host of started.hosts) await bounded(host.stop(), 20_000, `stopping the ${host.name} host`);
    // A connection left in a COPY that never settled is closed after 5 s instead of waited for.
    if (started.sql) await bounded(started.sql.end({ timeout: 5 }), 20_000, 'closing the database connections');
    if (started.db) await bounded(started.db.stop(), 30_000, 'stopping the scratch Postgres');
  })());
}

async function main() {
  let url = process.env.DATABASE_URL;
  if (url) await migrate(url);
  else url = (started.db = await startScratchDatabase('bench-ingest')).url;
  const sql = (started.sql = createSql(url, { max: CONCURRENCY + 1 }));
  await checkRetentionClass(sql);
  // Limits far above what the machine can send: the benchmark measures the path, limits included, not a refusal.
  const { key } = await createKey(sql, {
    service: '*',
    name: 'bench',
    rateRecordsPerSecond: 1_000_000_000,
    rateRequestsPerSecond: 1_000_000,
  });
  for (const name of HOSTS) {
    const host = await startBenchHost(name, url);
    started.hosts.push({ name, url: host.url, pid: host.child.pid!, stop: () => host.stop() });
  }
  const rows = makeRows(N);
  const batches = chunks(rows, BATCH);
  const bodies = batches.map((b) => (values.gzip ? gzipSync(JSON.stringify({ logs: b })) : JSON.stringify({ logs: b })));
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    ...(values.gzip ? { 'content-encoding': 'gzip' } : {}),
  };
  console.log(
    `${N} system logs, batches of ${BATCH}, concurrency ${CONCURRENCY}, ${values.gzip ? 'gzip' : 'plain JSON'} bodies; ` +
      `hosts ${HOSTS.join(', ')}; ${os.cpus().length} cores`,
  );

  // Warm-up, not counted: 20 batches through each path (JIT, caches, pools), as a running service is.
  for (const host of started.hosts) {
    await pool(chunks(makeRows(20 * BATCH), BATCH), CONCURRENCY, async (b) => {
      await post(`${host.url}/v1/ingest`, { ...headers, 'content-encoding': 'identity' }, JSON.stringify({ logs: b }));
    });
  }
  await copyRows(sql, chunks(makeRows(20 * BATCH), BATCH));

  const ratios = new Map<Host, number[]>(HOSTS.map((h) => [h, []]));
  // Where each path's CPU went, summed over the rounds: the host's processes, Postgres, this client.
  const cpu = new Map<Host | 'COPY', { wall: number; host: number; postgres: number; client: number }>();
  const account = async (name: Host | 'COPY', pid: number | undefined, run: () => Promise<void>) => {
    const before = { host: pid ? treeCpuSeconds(pid) : 0, postgres: postgresCpuSeconds(), client: ownCpuSeconds(), t: performance.now() };
    await run();
    const c = cpu.get(name) ?? { wall: 0, host: 0, postgres: 0, client: 0 };
    c.wall += (performance.now() - before.t) / 1000;
    c.host += (pid ? treeCpuSeconds(pid) : 0) - before.host;
    c.postgres += postgresCpuSeconds() - before.postgres;
    c.client += ownCpuSeconds() - before.client;
    cpu.set(name, c);
    return c;
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const rates = new Map<Host, number>();
    for (const host of started.hosts) {
      await sql`TRUNCATE logging.system_logs`;
      await sql`CHECKPOINT`;
      const t0 = performance.now();
      await account(host.name, host.pid, () =>
        pool(bodies, CONCURRENCY, async (body) => {
          const res = await post(`${host.url}/v1/ingest`, headers, body);
          const json = JSON.parse(res.text) as { accepted?: number };
          if (res.status !== 200 || json.accepted !== BATCH)
            throw new Error(`${host.name} answered ${res.status}: ${res.text.slice(0, 300)}`);
        }),
      );
      rates.set(host.name, N / ((performance.now() - t0) / 1000));
      const stored = await count(sql);
      if (stored !== N) throw new Error(`expected ${N} rows after ingest through ${host.name}, found ${stored}`);
    }

    await sql`TRUNCATE logging.system_logs`;
    await sql`CHECKPOINT`;
    const t0 = performance.now();
    await account('COPY', undefined, () => copyRows(sql, batches));
    const copyRate = N / ((performance.now() - t0) / 1000);
    if ((await count(sql)) !== N) throw new Error('COPY stored the wrong number of rows');

    const parts = HOSTS.map((h) => {
      ratios.get(h)!.push(rates.get(h)! / copyRate);
      return `${h} ${rates.get(h)!.toFixed(0)}/s (${(rates.get(h)! / copyRate).toFixed(2)})`;
    });
    console.log(`round ${round}: ${parts.join(', ')}, COPY ${copyRate.toFixed(0)}/s`);
  }
  for (const [name, c] of cpu) {
    const perK = (x: number) => ((x / (N * ROUNDS)) * 1e6).toFixed(0);
    console.log(
      `CPU ${name}: ${(((c.host + c.postgres + c.client) / c.wall / os.cpus().length) * 100).toFixed(0)}% of the machine; ` +
        `µs per record: host ${perK(c.host)}, postgres ${perK(c.postgres)}, client ${perK(c.client)}`,
    );
  }
  // The table as COPY left it: N rows of ingest's columns, with every index (for the capacity model).
  const [size] = await sql<{ heap: string; indexes: string }[]>`
    SELECT sum(pg_table_size(relid))::text AS heap, sum(pg_indexes_size(relid))::text AS indexes
    FROM pg_partition_tree('logging.system_logs') WHERE isleaf`;
  console.log(
    `bytes per stored record: heap (with TOAST) ${(Number(size!.heap) / N).toFixed(0)}, indexes ${(Number(size!.indexes) / N).toFixed(0)}`,
  );
  for (const h of HOSTS) {
    const sorted = [...ratios.get(h)!].sort((a, b) => a - b);
    console.log(
      `ratio ${h} / COPY: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} (min ${sorted[0]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)}) over ${ROUNDS} rounds`,
    );
  }
}

// The whole benchmark has a deadline too: a request or a COPY that hangs must not hang the run.
let timedOut = false;
const deadline = setTimeout(() => {
  timedOut = true;
  console.error(`bench:ingest did not finish within ${TIMEOUT_S} s (--timeout); stopping`);
  void cleanup().finally(() => process.exit(1));
}, TIMEOUT_S * 1000);

main().then(
  async () => {
    await cleanup();
    clearTimeout(deadline);
  },
  async (error) => {
    if (!timedOut) console.error(error); // after the deadline, only the cleanup's closing of connections
    await cleanup();
    process.exit(1);
  },
);
