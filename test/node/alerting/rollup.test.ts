/**
 * The per-minute rollups against the raw tables they summarise, on a real Postgres of its own and
 * the wall clock (ingest notes late records by it): counts equal, latency within the sketch's 1%,
 * late records rolled again, the backfill bounded by its budget, and anomaly and absence rules
 * observing the same whether they read the rollups or the raw tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleSchema, type RuleInput } from '../../../shared/alerting';
import { observe } from '../../../shared/alerting/observe';
import { advanceRollups, REROLL_MINUTES, ROLLUP_SPAN_MS, rollupLatencySeries } from '../../../shared/alerting/rollup';
import { createSql, type Sql } from '../../../shared/db/client';
import { startScratchDatabase, type Database } from '../../../shared/dev/postgres';
import { insertBatch, type LogRow, type MetricRow } from '../../../shared/ingest';

let db: Database;
let sql: Sql;
const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Math.floor(Date.now() / MIN) * MIN;
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * MIN);

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

function logs(minutesAgo: number, n: number, rnd: () => number): LogRow[] {
  return Array.from({ length: n }, () => ({
    id: crypto.randomUUID(),
    service: rnd() < 0.5 ? 'execution' : 'risk',
    level: ['INFO', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'][Math.floor(rnd() * 5)]!,
    message: 'order event',
    data: null,
    correlation_id: `trade-${Math.floor(rnd() * 1e6)}`,
    event_type: rnd() < 0.3 ? 'trading' : null,
    timestamp: new Date(at(minutesAgo).getTime() + Math.floor(rnd() * 59_000)).toISOString(),
  }));
}

function metrics(minutesAgo: number, n: number, rnd: () => number): MetricRow[] {
  return Array.from({ length: n }, () => ({
    id: crypto.randomUUID(),
    service: 'execution',
    operation: rnd() < 0.5 ? 'create_order' : 'route',
    execution_time_ms: Math.round((2 + 400 * rnd() ** 4) * 1000) / 1000,
    memory_usage_mb: null,
    cpu_usage_percent: null,
    correlation_id: null,
    data: null,
    timestamp: new Date(at(minutesAgo).getTime() + Math.floor(rnd() * 59_000)).toISOString(),
  }));
}

beforeAll(async () => {
  db = await startScratchDatabase('alerting-rollup');
  sql = createSql(db.url, { max: 2 });
  await sql`SELECT logging.ensure_partitions((now() AT TIME ZONE 'UTC')::date - 9, (now() AT TIME ZONE 'UTC')::date + 1)`;
  // 26 hours of logs and metrics, a few a minute, and the same hours a week ago.
  const rnd = random(42);
  for (const offset of [0, 7 * 24 * 60]) {
    const l: LogRow[] = [];
    const m: MetricRow[] = [];
    for (let ago = 1; ago <= 26 * 60; ago++) {
      l.push(...logs(offset + ago, Math.floor(rnd() * 4), rnd));
      m.push(...metrics(offset + ago, 2 + Math.floor(rnd() * 6), rnd));
    }
    await insertBatch(sql, l, m);
  }
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await db?.stop();
});

describe('per-minute rollups', () => {
  it('hold what the raw tables hold: counts exactly, latency percentiles within 1%', async () => {
    const { coverage } = await advanceRollups(sql, new Date(NOW));
    expect(coverage).toEqual({ from: new Date(NOW - ROLLUP_SPAN_MS), to: new Date(NOW) });
    const raw = await sql`
      SELECT service, level, coalesce(event_type, '') AS event_type, count(*)::int AS n FROM logging.system_logs
      WHERE "timestamp" >= ${coverage.from} AND "timestamp" < ${coverage.to} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
    const rolled = await sql`
      SELECT service, level, event_type, sum(n)::int AS n FROM logging.log_counts_minute GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
    expect(raw.length).toBeGreaterThan(10);
    expect(rolled).toEqual(raw);

    // p95 (the smallest value with 95% at or below it), avg and max of each 15-minute window of the last day.
    const q = {
      to: new Date(NOW),
      windowSeconds: 900,
      groupBy: ['operation'] as const,
      ranges: [{ from: at(24 * 60), to: new Date(NOW) }],
    };
    const exact = await sql<{ operation: string; ago: number; p95: number; avg: number; max: number }[]>`
      SELECT operation, ceil(extract(epoch FROM (${q.to}::timestamptz - "timestamp")) / 900)::int - 1 AS ago,
             (percentile_disc(0.95) WITHIN GROUP (ORDER BY execution_time_ms))::float8 AS p95,
             avg(execution_time_ms)::float8 AS avg, max(execution_time_ms)::float8 AS max
      FROM logging.performance_logs WHERE "timestamp" >= ${at(24 * 60)} AND "timestamp" < ${q.to} GROUP BY 1, 2`;
    const key = (r: { operation?: string; ago: number }) => `${r.operation}/${r.ago}`;
    const series = async (stat: 'p95' | 'avg' | 'max') =>
      new Map((await rollupLatencySeries(sql, { ...q, filter: { service: 'execution' }, stat })).map((r) => [key(r), r.v!]));
    const [p95, avg, max] = [await series('p95'), await series('avg'), await series('max')];
    expect(exact).toHaveLength(2 * 96);
    expect(p95.size).toBe(exact.length);
    for (const e of exact) {
      expect(Math.abs(p95.get(key(e))! - e.p95) / e.p95).toBeLessThanOrEqual(0.0101);
      expect(avg.get(key(e))).toBeCloseTo(e.avg, 6);
      expect(max.get(key(e))).toBe(e.max);
    }
  });

  it('roll again the minutes of records that arrive late, and the last few minutes at every run', async () => {
    const count = async (minutesAgo: number) => {
      const [r] = await sql<{ raw: number; rolled: number }[]>`
        SELECT (SELECT count(*)::int FROM logging.system_logs WHERE "timestamp" >= ${at(minutesAgo)} AND "timestamp" < ${at(minutesAgo - 1)}) AS raw,
               (SELECT coalesce(sum(n), 0)::int FROM logging.log_counts_minute WHERE minute = ${at(minutesAgo)}) AS rolled`;
      return r!;
    };
    await advanceRollups(sql, new Date(NOW));
    const rnd = random(7);
    // A replay of three hours ago (late: noted by ingest) and a batch five minutes late (re-rolled anyway).
    await insertBatch(sql, [...logs(180, 25, rnd), ...logs(5, 7, rnd)], []);
    expect((await count(180)).raw).toBe((await count(180)).rolled + 25);
    expect((await sql`SELECT minute FROM logging.late_minutes`).map((r) => r.minute)).toEqual([at(180)]);
    const progress = await advanceRollups(sql, new Date(NOW + MIN));
    expect(progress.minutes).toBe(REROLL_MINUTES + 1 + 1); // the last few and this one, and the late one
    for (const minutesAgo of [180, 5]) {
      const c = await count(minutesAgo);
      expect(c.rolled).toBe(c.raw);
    }
    expect(await sql`SELECT minute FROM logging.late_minutes`).toHaveLength(0);
  });

  it('backfill within their budget, and rules read the raw tables until the span is covered, the same values', async () => {
    const anomaly = RuleSchema.parse({
      name: 'errors',
      kind: 'anomaly',
      metric: 'errors',
      filter: { service: 'execution' },
      window: '5m',
    } satisfies RuleInput);
    const latency = RuleSchema.parse({ name: 'p95', kind: 'anomaly', metric: 'latency', filter: { service: 'execution' }, window: '15m' });
    const absence = RuleSchema.parse({ name: 'quiet', kind: 'absence', window: '5m' });
    const errorsPerHour = RuleSchema.parse({
      name: 'errors-1h',
      kind: 'log_threshold',
      filter: { level: 'ERROR' },
      window: '1h',
      groupBy: ['service'],
      thresholds: { warning: 10 },
    });
    const tradingRatio = RuleSchema.parse({
      name: 'trading-6h',
      kind: 'log_threshold',
      measure: 'ratio',
      filter: { service: 'risk', event_type: 'trading' },
      window: '6h',
      thresholds: { warning: 0.5 },
    });
    const to = new Date(NOW + 2 * MIN);
    const rules = [anomaly, latency, absence, errorsPerHour, tradingRatio];
    const look = async () => Promise.all(rules.map((r) => observe(sql, r, to, () => null, [])));

    await sql`DELETE FROM logging.rollup_coverage`;
    const fromRaw = await look();
    const partial = await advanceRollups(sql, to, 1);
    expect(partial.coverage.from.getTime()).toBeGreaterThan(to.getTime() - 7 * 24 * HOUR); // not yet the week-ago band
    const full = await advanceRollups(sql, to);
    expect(full.coverage.from).toEqual(new Date(to.getTime() - ROLLUP_SPAN_MS));
    const fromRollups = await look();

    const obs = (o: Awaited<ReturnType<typeof look>>[number]) => [...o.values()].map((g) => g.obs);
    expect(obs(fromRollups[0]!)).toEqual(obs(fromRaw[0]!)); // error counts: the same numbers
    const [raw, rolled] = [obs(fromRaw[1]!)[0]!, obs(fromRollups[1]!)[0]!];
    expect(rolled.kind === 'value' && raw.kind === 'value').toBe(true);
    if (rolled.kind === 'value' && raw.kind === 'value') {
      expect(rolled.value).toBe(raw.value); // the current window: raw in both
      expect(Math.abs(rolled.threshold! - raw.threshold!) / raw.threshold!).toBeLessThan(0.03);
    }
    expect([...fromRollups[2]!.keys()].sort()).toEqual(['service=execution', 'service=risk']);
    expect(obs(fromRollups[2]!)).toEqual(obs(fromRaw[2]!));
    // Long log threshold windows are counted from the rollups: the same counts and ratio.
    expect([...fromRollups[3]!.keys()].sort()).toEqual(['service=execution', 'service=risk']);
    expect(obs(fromRollups[3]!)).toEqual(obs(fromRaw[3]!));
    expect(obs(fromRollups[4]!)).toEqual(obs(fromRaw[4]!));
    expect(obs(fromRollups[4]!)[0]).toMatchObject({ kind: 'value' });
    // And they do read the rollups: doubled minute counts double the hour's count.
    await sql`UPDATE logging.log_counts_minute SET n = n * 2`;
    const doubled = obs(await observe(sql, errorsPerHour, to, () => null, []));
    expect(doubled.map((o) => (o.kind === 'value' ? o.value : null))).toEqual(
      obs(fromRaw[3]!).map((o) => (o.kind === 'value' ? o.value * 2 : null)),
    );
  });
});
