/**
 * npm run bench:query [-- --rows 5000000 --days 30 --runs 100 --host workers|node|deno|all --timeout 1800]
 *
 * Loads rows system logs (and a fifth as many metrics) over `days` days, then measures p50/p95 of
 * the read API's queries: the SQL alone (shared/query/sql.ts on a pooled connection) and end to
 * end through each host named (default all): the Worker under `wrangler dev` (a new connection per
 * request locally) and the bundled Node and Deno hosts (their pool). The queries: a correlation-id
 * lookup, the first query of an incident (one service's errors, newest first), the needle (a
 * service with no match), a filtered page, a text search, and the two stats queries.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createSql } from '../../shared/db/client';
import { createKey } from '../../shared/db/api-keys';
import { errorStats, performanceStats, searchLogs, traceEvents } from '../../shared/query/sql';
import { startScratchDatabase } from '../../shared/dev/postgres';
import { hostsOf, startBenchHost, type BenchHost } from './hosts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '100' },
    host: { type: 'string', default: 'all' },
    timeout: { type: 'string', default: '1800' },
  },
});
type Host = BenchHost;
const HOSTS = hostsOf(values.host!);
setTimeout(() => {
  console.error(`bench:query did not finish within ${values.timeout} s (--timeout)`);
  process.exit(1);
}, Number(values.timeout) * 1000).unref();
const ROWS = Number(values.rows);
const DAYS = Number(values.days);
const RUNS = Number(values.runs);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function time(fn: (i: number) => Promise<unknown>, runs = RUNS): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await fn(i);
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    t.push(performance.now() - t0);
  }
  return { p50: pct(t, 50), p95: pct(t, 95) };
}

const fmt = (t: { p50: number; p95: number }) => `p50 ${t.p50.toFixed(1)} / p95 ${t.p95.toFixed(1)} ms`;

async function main() {
  const db = await startScratchDatabase('bench-query');
  const sql = createSql(db.url, { max: 2 });
  try {
    const t = performance.now();
    await sql.unsafe(`SELECT logging.ensure_partitions((now() AT TIME ZONE 'UTC')::date - ${DAYS}, (now() AT TIME ZONE 'UTC')::date + 1)`);
    for (let start = 0; start < ROWS; start += 1_000_000) {
      const n = Math.min(1_000_000, ROWS - start);
      await sql.unsafe(`
        INSERT INTO logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", retention_class)
        SELECT r.*, logging.retention_class(r.level, r.event_type) FROM (SELECT gen_random_uuid(), (ARRAY['execution','risk_management','strategy_engine','data_ingestion','analytics','notification'])[1 + g % 6],
               CASE WHEN g % 50 = 0 THEN 'ERROR' WHEN g % 7 = 0 THEN 'WARNING' ELSE 'INFO' END,
               'Order ' || g || ' routed to venue ' || (g % 9),
               jsonb_build_object('order_id', 'ORD' || g, 'symbol', (ARRAY['AAPL','MSFT','NVDA','TSLA','AMZN'])[1 + g % 5], 'qty', g % 500),
               'trade-' || (g / 8), CASE WHEN g % 4 = 0 THEN 'trading' ELSE 'system' END,
               now() - ((g::float8 / ${ROWS}) * ${DAYS} * interval '1 day')
        FROM generate_series(${start}, ${start + n - 1}) g) AS r(id, service, level, message, data, correlation_id, event_type, "timestamp")`);
      await sql.unsafe(`
        INSERT INTO logging.performance_logs (id, service, operation, execution_time_ms, correlation_id, "timestamp")
        SELECT gen_random_uuid(), (ARRAY['execution','risk_management','strategy_engine'])[1 + g % 3], (ARRAY['create_order','check_limits','compute_signal','route_order'])[1 + g % 4],
               (random() * 50 + (g % 100))::numeric(10,3), 'trade-' || (g * 5 / 8), now() - ((g::float8 * 5 / ${ROWS}) * ${DAYS} * interval '1 day')
        FROM generate_series(${start / 5}, ${(start + n) / 5 - 1}) g`);
    }
    await sql`ANALYZE logging.system_logs`;
    await sql`ANALYZE logging.performance_logs`;
    console.log(
      `${ROWS} logs and ${ROWS / 5} metrics over ${DAYS} days loaded in ${((performance.now() - t) / 1000).toFixed(0)} s; ${os.cpus().length} cores; ${RUNS} runs each`,
    );

    const { key } = await createKey(sql, { service: '*', scopes: ['read'], name: 'bench' });
    const hosts: { name: Host; url: string; stop(): Promise<void> }[] = [];
    try {
      for (const name of HOSTS) {
        const h = await startBenchHost(name, db.url);
        hosts.push({ name, url: h.url, stop: () => h.stop() });
      }
      const since24h = new Date(Date.now() - 86_400_000).toISOString();
      const cid = (i: number) => `trade-${(i * 7919) % (ROWS / 8)}`;
      const api = (base: string, p: string) =>
        fetch(`${base}${p}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => {
          if (!r.ok) throw new Error(`${p}: ${r.status}`);
          return r.json();
        });
      const ERRORS = ['ERROR', 'CRITICAL'];
      // [name, the SQL, the API path (may depend on the run), runs]. In the data a service's venues
      // are fixed by its place in the cycle: risk_management (g % 6 = 1) only routes to venues 1, 4, 7.
      const cases: [string, (i: number) => Promise<unknown>, ((i: number) => string) | undefined, number?][] = [
        ['HTTP floor: /health (one SELECT 1, no auth)', () => sql`SELECT 1`, () => '/health'],
        ['correlation-id lookup (trace)', (i) => traceEvents(sql, cid(i)), (i) => `/v1/traces/${cid(i)}`],
        [
          "one service's errors, newest first (100 rows)",
          () => searchLogs(sql, { services: ['execution'], levels: ERRORS }, undefined, 100),
          () => '/v1/logs?service=execution&level=ERROR&limit=100',
        ],
        [
          'the same without class pruning (a third level no row has)',
          () => searchLogs(sql, { services: ['execution'], levels: [...ERRORS, 'NONE'] }, undefined, 100),
          undefined,
        ],
        [
          'needle: a service with no error at all',
          () => searchLogs(sql, { services: ['notification'], levels: ERRORS }, undefined, 100),
          () => '/v1/logs?service=notification&level=ERROR&limit=100',
        ],
        [
          'filtered search page (service, level ≥ WARNING, data.symbol, 50 rows)',
          () => searchLogs(sql, { services: ['execution'], levels: ['WARNING', ...ERRORS], data: { symbol: 'AAPL' } }, undefined, 50),
          () => '/v1/logs?service=execution&level=warning&data.symbol=AAPL&limit=50',
        ],
        [
          'text search (q, one service, 100 rows)',
          (i) => searchLogs(sql, { services: ['risk_management'], text: `to venue ${1 + 3 * (i % 3)}` }, undefined, 100),
          (i) => `/v1/logs?service=risk_management&q=${encodeURIComponent(`to venue ${1 + 3 * (i % 3)}`)}&limit=100`,
        ],
        [
          'text needle (q matching nothing in the service; 10 runs)',
          () => searchLogs(sql, { services: ['risk_management'], text: 'to venue 3' }, undefined, 100),
          () => `/v1/logs?service=risk_management&q=${encodeURIComponent('to venue 3')}&limit=100`,
          10,
        ],
        ['performance stats (24 h)', () => performanceStats(sql, since24h, {}), () => '/v1/stats/performance?window=24h'],
        ['error stats (24 h)', () => errorStats(sql, since24h, 1440), () => '/v1/stats/errors?window=24h'],
      ];
      for (const [name, query, path, runs] of cases) {
        const parts = [`SQL ${fmt(await time(query, runs))}`];
        if (path) for (const h of hosts) parts.push(`${h.name} ${fmt(await time((i) => api(h.url, path(i)), runs))}`);
        console.log(`${name}: ${parts.join('; ')}`);
      }
    } finally {
      for (const h of hosts) await h.stop();
    }
  } finally {
    await sql.end();
    await db.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
