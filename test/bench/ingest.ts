/**
 * npm run bench:ingest [-- --records 200000 --batch 1000 --concurrency 4]
 *
 * Posts N system logs through the Worker under `wrangler dev` (auth, validation, idempotent
 * insert all in place), then writes the same rows with COPY into the same, emptied table and
 * indexes: the physical limit of this machine. Prints both rates and their ratio.
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import { createSql, type Sql } from '../../shared/db/client';
import { createKey } from '../../shared/db/keys';
import { freePort, migrate, startScratchDatabase, type Database } from '../../shared/dev/postgres';
import { startWorker } from '../../shared/dev/wrangler';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    gzip: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(values.records);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);

const SERVICES = ['execution', 'risk_management', 'strategy_engine', 'data_ingestion', 'analytics', 'notification'];
const LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARNING', 'ERROR'];

interface Row {
  id: string; timestamp: string; service: string; level: string; message: string;
  data: Record<string, unknown>; correlation_id: string; event_type: string;
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
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
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
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const csv = (v: string) => `"${v.replace(/"/g, '""')}"`;

async function copyRows(sql: Sql, batches: Row[][]) {
  await pool(batches, CONCURRENCY, async (batch) => {
    const text = batch.map((r) =>
      [r.id, r.timestamp, r.service, r.level, csv(r.message), csv(JSON.stringify(r.data)), r.correlation_id, r.event_type].join(','),
    ).join('\n') + '\n';
    const stream = await sql`COPY logging.system_logs (id, "timestamp", service, level, message, data, correlation_id, event_type) FROM STDIN WITH (FORMAT csv)`.writable();
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('finish', resolve);
      stream.end(text);
    });
  });
}

async function count(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs`;
  return row!.n;
}

async function main() {
  let db: Database | undefined;
  let url = process.env.DATABASE_URL;
  if (url) await migrate(url);
  else url = (db = await startScratchDatabase('bench-ingest')).url;
  const sql = createSql(url, { max: CONCURRENCY + 1 });
  const { key } = await createKey(sql, { service: '*', name: 'bench' });
  const worker = await startWorker({ port: await freePort(), databaseUrl: url, stdio: 'ignore' });
  try {
    const rows = makeRows(N);
    const batches = chunks(rows, BATCH);
    const bodies = batches.map((b) => (values.gzip ? gzipSync(JSON.stringify({ logs: b })) : JSON.stringify({ logs: b })));
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(values.gzip ? { 'content-encoding': 'gzip' } : {}) };
    console.log(`${N} system logs, batches of ${BATCH}, concurrency ${CONCURRENCY}, ${values.gzip ? 'gzip' : 'plain JSON'} bodies; ${os.cpus().length} cores`);

    // Warm-up, not counted: 20 batches through each path (JIT, caches), as a running service is.
    const warm = chunks(makeRows(20 * BATCH), BATCH);
    await pool(warm, CONCURRENCY, async (b) => {
      await post(`${worker.url}/v1/ingest`, { ...headers, 'content-encoding': 'identity' }, JSON.stringify({ logs: b }));
    });
    await copyRows(sql, chunks(makeRows(20 * BATCH), BATCH));

    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await sql`TRUNCATE logging.system_logs`;
      await sql`CHECKPOINT`;
      let t0 = performance.now();
      await pool(bodies, CONCURRENCY, async (body) => {
        const res = await post(`${worker.url}/v1/ingest`, headers, body);
        const json = JSON.parse(res.text) as { accepted?: number };
        if (res.status !== 200 || json.accepted !== BATCH) throw new Error(`ingest answered ${res.status}: ${res.text.slice(0, 300)}`);
      });
      const workerSeconds = (performance.now() - t0) / 1000;
      const stored = await count(sql);
      if (stored !== N) throw new Error(`expected ${N} rows after ingest, found ${stored}`);

      await sql`TRUNCATE logging.system_logs`;
      await sql`CHECKPOINT`;
      t0 = performance.now();
      await copyRows(sql, batches);
      const copySeconds = (performance.now() - t0) / 1000;
      if ((await count(sql)) !== N) throw new Error('COPY stored the wrong number of rows');

      const workerRate = N / workerSeconds;
      const copyRate = N / copySeconds;
      ratios.push(workerRate / copyRate);
      console.log(
        `round ${round}: worker ${workerRate.toFixed(0)} records/s (${workerSeconds.toFixed(2)} s), ` +
          `COPY ${copyRate.toFixed(0)} records/s (${copySeconds.toFixed(2)} s), ratio ${(workerRate / copyRate).toFixed(2)}`,
      );
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(`ratio worker / COPY: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} (min ${sorted[0]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)}) over ${ROUNDS} rounds`);
  } finally {
    await worker.stop();
    await sql.end();
    await db?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
