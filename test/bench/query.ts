/**
 * npm run bench:query [-- --rows 5000000 --days 30 --runs 100]
 *
 * Loads rows system logs (and a fifth as many metrics) over `days` days, then measures p50/p95 of
 * the read API's queries, each twice: the SQL alone (shared/query/sql.ts on a pooled connection)
 * and end to end through the Worker under `wrangler dev` (auth, validation, a new connection per
 * request locally): a correlation-id lookup, a filtered search page, and the two stats queries.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createSql } from '../../shared/db/client';
import { createKey } from '../../shared/db/api-keys';
import { errorStats, performanceStats, searchLogs, traceEvents } from '../../shared/query/sql';
import { freePort, startScratchDatabase } from '../../shared/dev/postgres';
import { startWorker } from '../../shared/dev/wrangler';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '100' },
  },
});
const ROWS = Number(values.rows);
const DAYS = Number(values.days);
const RUNS = Number(values.runs);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function time(fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await fn(i);
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn(i);
    t.push(performance.now() - t0);
  }
  return { p50: pct(t, 50), p95: pct(t, 95) };
}

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
    const worker = await startWorker({ port: await freePort(), databaseUrl: db.url, stdio: 'ignore' });
    try {
      const since24h = new Date(Date.now() - 86_400_000).toISOString();
      const cid = (i: number) => `trade-${(i * 7919) % (ROWS / 8)}`;
      const api = (p: string) =>
        fetch(`${worker.url}${p}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => {
          if (!r.ok) throw new Error(`${p}: ${r.status}`);
          return r.json();
        });
      const cases: [string, (i: number) => Promise<unknown>, (i: number) => Promise<unknown>][] = [
        ['correlation-id lookup (trace)', (i) => traceEvents(sql, cid(i)), (i) => api(`/v1/traces/${cid(i)}`)],
        [
          'filtered search page (service, level ≥ WARNING, data.symbol, 50 rows)',
          () =>
            searchLogs(sql, { services: ['execution'], levels: ['WARNING', 'ERROR', 'CRITICAL'], data: { symbol: 'AAPL' } }, undefined, 50),
          () => api('/v1/logs?service=execution&level=warning&data.symbol=AAPL&limit=50'),
        ],
        ['performance stats (24 h)', () => performanceStats(sql, since24h, {}), () => api('/v1/stats/performance?window=24h')],
        ['error stats (24 h)', () => errorStats(sql, since24h, 1440), () => api('/v1/stats/errors?window=24h')],
      ];
      for (const [name, db, http] of cases) {
        const a = await time(db);
        const b = await time(http);
        console.log(
          `${name}: SQL p50 ${a.p50.toFixed(1)} ms, p95 ${a.p95.toFixed(1)} ms; through the Worker p50 ${b.p50.toFixed(1)} ms, p95 ${b.p95.toFixed(1)} ms`,
        );
      }
    } finally {
      await worker.stop();
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
