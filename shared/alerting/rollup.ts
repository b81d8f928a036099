/**
 * Per-minute rollups of system_logs (counts by service, level, event_type) and performance_logs
 * (count, sum, max and a log-bucket sketch by service, operation), written by the evaluator under
 * its lease before it evaluates a minute. Anomaly and absence rules read their day-long baselines
 * from them instead of scanning a day of records.
 *
 * Each run rolls up to the evaluated minute, rolling the last REROLL_MINUTES again (records a few
 * minutes late), then the minutes ingest noted as late (logging.late_minutes: a QStash replay after
 * an outage, a client's spool), and extends the covered span backwards within a time budget until
 * it holds the week-ago band (the backfill after a deploy or a long outage). Minutes older than the
 * span are deleted.
 */
import type { Sql, TransactionSql } from '../db/client';
import { logConditions, type LogFilter } from '../query';
import { grouping, type Row } from './groups';
import type { GroupField, RuleLogFilter } from './rules';

/** Sketch buckets: γ = (1 + α)/(1 − α) for a relative error α of 1%. */
export const SKETCH_GAMMA = 1.01 / 0.99;
/** Values at or below this share the lowest bucket. */
const SKETCH_FLOOR_MS = 0.001;
const SKETCH_MIN_BUCKET = Math.ceil(Math.log(SKETCH_FLOOR_MS) / Math.log(SKETCH_GAMMA));

/** The value a sketch bucket stands for (within 1% of every value in it). */
export function bucketValue(k: number): number {
  return k <= SKETCH_MIN_BUCKET ? 0 : (2 * SKETCH_GAMMA ** k) / (SKETCH_GAMMA + 1);
}

export const REROLL_MINUTES = 10;
/** The span anomaly rules need: the week-ago band of their largest window (1 h), plus a margin. */
export const ROLLUP_SPAN_MS = (7 * 24 + 2) * 3_600_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

export interface Coverage {
  from: Date;
  to: Date;
}

export async function rollupCoverage(sql: Sql | TransactionSql): Promise<Coverage | null> {
  const [row] = await sql<{ covered_from: Date; covered_to: Date }[]>`SELECT covered_from, covered_to FROM logging.rollup_coverage`;
  return row ? { from: row.covered_from, to: row.covered_to } : null;
}

/** Whether the rollups hold every minute of [from, to). */
export async function rollupsCover(sql: Sql, from: Date, to: Date): Promise<boolean> {
  const c = await rollupCoverage(sql);
  return !!c && c.from.getTime() <= from.getTime() && c.to.getTime() >= to.getTime();
}

/**
 * Rolls [from, to) up from the raw tables, replacing what the rollups held for those minutes.
 * Late notes in the range are settled first: a note ingest commits after that is kept for the next run.
 */
async function rollMinutes(tx: TransactionSql, from: Date, to: Date): Promise<void> {
  await tx`DELETE FROM logging.late_minutes WHERE minute >= ${from} AND minute < ${to}`;
  await tx`DELETE FROM logging.log_counts_minute WHERE minute >= ${from} AND minute < ${to}`;
  await tx`DELETE FROM logging.latency_minute WHERE minute >= ${from} AND minute < ${to}`;
  await tx`
    INSERT INTO logging.log_counts_minute (minute, service, level, event_type, n)
    SELECT date_trunc('minute', "timestamp"), service, level, coalesce(event_type, ''), count(*)
    FROM logging.system_logs WHERE "timestamp" >= ${from} AND "timestamp" < ${to}
    GROUP BY 1, 2, 3, 4`;
  await tx`
    INSERT INTO logging.latency_minute (minute, service, operation, n, total, max, buckets, counts)
    SELECT minute, service, operation, sum(c), sum(s), max(m), array_agg(k ORDER BY k), array_agg(c ORDER BY k)
    FROM (
      SELECT date_trunc('minute', "timestamp") AS minute, service, operation,
             greatest(${SKETCH_MIN_BUCKET}::int, ceil(ln(greatest(execution_time_ms::float8, ${SKETCH_FLOOR_MS}::float8)) / ln(${SKETCH_GAMMA}::float8))::int) AS k,
             count(*)::int AS c, sum(execution_time_ms)::float8 AS s, max(execution_time_ms)::float8 AS m
      FROM logging.performance_logs WHERE "timestamp" >= ${from} AND "timestamp" < ${to}
      GROUP BY 1, 2, 3, 4) b
    GROUP BY 1, 2, 3`;
}

async function saveCoverage(tx: TransactionSql, c: Coverage): Promise<void> {
  await tx`
    INSERT INTO logging.rollup_coverage (id, covered_from, covered_to) VALUES (true, ${c.from}, ${c.to})
    ON CONFLICT (id) DO UPDATE SET covered_from = EXCLUDED.covered_from, covered_to = EXCLUDED.covered_to`;
}

export interface RollupProgress {
  coverage: Coverage;
  /** Minutes rolled by this call (forward and backfill). */
  minutes: number;
}

/**
 * Brings the rollups up to `minute` (exclusive) and backfills towards the week-ago band for at
 * most about `budgetMs` (unlimited when undefined). Each step commits with its coverage, so a
 * run that dies keeps what it rolled. Call it under the evaluator's lease.
 */
export async function advanceRollups(sql: Sql, minute: Date, budgetMs?: number): Promise<RollupProgress> {
  const started = Date.now();
  const end = minute.getTime();
  const stored = await rollupCoverage(sql);
  // A span that ends long before this minute (the evaluator was down), or after it (an older
  // minute evaluated again), restarts here; the backfill then rolls the gap as it goes back.
  const contiguous = stored !== null && stored.to.getTime() >= end - 60 * MINUTE && stored.to.getTime() <= end;
  const resume = contiguous
    ? Math.max(stored.from.getTime(), stored.to.getTime() - REROLL_MINUTES * MINUTE)
    : end - REROLL_MINUTES * MINUTE;
  let coverage: Coverage = { from: new Date(contiguous ? stored.from.getTime() : resume), to: minute };
  await rollStep(sql, new Date(resume), minute, coverage);
  let minutes = (end - resume) / MINUTE + (await rerollLate(sql, coverage));
  const oldest = end - ROLLUP_SPAN_MS;
  // Steps start at an hour and double while one takes under a quarter of the budget (a day at most).
  let step = HOUR;
  while (coverage.from.getTime() > oldest && (budgetMs === undefined || Date.now() - started < budgetMs)) {
    const stepTo = coverage.from;
    const stepStarted = Date.now();
    coverage = { from: new Date(Math.max(oldest, stepTo.getTime() - step)), to: minute };
    await rollStep(sql, coverage.from, stepTo, coverage);
    minutes += (stepTo.getTime() - coverage.from.getTime()) / MINUTE;
    // Without a budget (the CLI, a benchmark): while a step takes under a second.
    if (Date.now() - stepStarted < (budgetMs ?? 4_000) / 4) step = Math.min(step * 2, 24 * HOUR);
  }
  await sql`DELETE FROM logging.log_counts_minute WHERE minute < ${new Date(oldest)}`;
  await sql`DELETE FROM logging.latency_minute WHERE minute < ${new Date(oldest)}`;
  await sql`DELETE FROM logging.late_minutes WHERE minute < ${new Date(oldest)}`;
  if (coverage.from.getTime() < oldest) {
    coverage = { from: new Date(oldest), to: minute };
    await sql.begin((tx) => saveCoverage(tx, coverage));
  }
  return { coverage, minutes };
}

/** At most this many late minutes are rolled again per run (oldest first); the rest wait for the next. */
const LATE_PER_RUN = 240;

/**
 * Rolls again the minutes ingest noted as late, those inside the covered span (older ones are
 * rolled by the backfill when it gets there, or are past the span). Nearby minutes are rolled as
 * one range. Returns how many minutes it rolled.
 */
async function rerollLate(sql: Sql, coverage: Coverage): Promise<number> {
  return sql.begin(async (tx) => {
    const rows = await tx<{ minute: Date }[]>`
      DELETE FROM logging.late_minutes WHERE minute IN (
        SELECT DISTINCT minute FROM logging.late_minutes WHERE minute < ${coverage.to} ORDER BY minute LIMIT ${LATE_PER_RUN})
      RETURNING minute`;
    const late = [...new Set(rows.map((r) => r.minute.getTime()))].filter((m) => m >= coverage.from.getTime());
    late.sort((a, b) => a - b);
    let rolled = 0;
    for (let i = 0; i < late.length; ) {
      let j = i;
      while (j + 1 < late.length && late[j + 1]! - late[j]! <= REROLL_MINUTES * MINUTE) j++;
      await rollMinutes(tx, new Date(late[i]!), new Date(late[j]! + MINUTE));
      rolled += (late[j]! - late[i]!) / MINUTE + 1;
      i = j + 1;
    }
    return rolled;
  });
}

/** Rolls [from, to) and records the coverage it completes, in one transaction. */
async function rollStep(sql: Sql, from: Date, to: Date, coverage: Coverage): Promise<void> {
  await sql.begin(async (tx) => {
    await rollMinutes(tx, from, to);
    await saveCoverage(tx, coverage);
  });
}

/** Whether the rollups can answer a log filter: they keep service, level and event_type, not messages or data. */
export function answersFilter(f: RuleLogFilter): boolean {
  return !f.q && !(f.data && Object.keys(f.data).length);
}

interface SeriesQuery {
  /** The end of the current window; windows are counted back from it. */
  to: Date;
  windowSeconds: number;
  groupBy: readonly GroupField[];
  /** Minutes read, as [from, to) instants on minute boundaries. */
  ranges: { from: Date; to: Date }[];
}

/** Which window a rollup minute is in: window a holds [to − (a+1)·w, to − a·w), the current one 0. */
function agoOfMinute(sql: Sql, q: SeriesQuery) {
  return sql`ceil(extract(epoch FROM (${q.to}::timestamptz - minute)) / ${q.windowSeconds})::int - 1 AS ago`;
}

function minuteRanges(sql: Sql, q: SeriesQuery) {
  return q.ranges.map((r) => sql`(minute >= ${r.from} AND minute < ${r.to})`).reduce((a, b) => sql`${a} OR ${b}`);
}

/** Matching logs per group and window, from the minute counts. */
export function rollupErrorSeries(sql: Sql, q: SeriesQuery & { filter: LogFilter }): Promise<(Row & { ago: number })[]> {
  const cols = grouping(sql, q.groupBy).cols;
  return sql<(Row & { ago: number })[]>`
    SELECT ${cols} ${agoOfMinute(sql, q)}, sum(n)::float8 AS v FROM logging.log_counts_minute
    WHERE (${minuteRanges(sql, q)}) ${logConditions(sql, q.filter)}
    GROUP BY ${cols} ago`;
}

/**
 * A latency statistic per group and window, from the minute sketches: avg and max exactly, a
 * percentile as the value of the sketch bucket holding its rank (within 1%).
 */
export async function rollupLatencySeries(
  sql: Sql,
  q: SeriesQuery & { filter: { service?: string; operation?: string }; stat: 'p50' | 'p95' | 'p99' | 'avg' | 'max' },
): Promise<(Row & { ago: number })[]> {
  const cols = grouping(sql, q.groupBy).cols;
  const where = sql`(${minuteRanges(sql, q)})
    ${q.filter.service ? sql`AND service = ${q.filter.service}` : sql``}
    ${q.filter.operation ? sql`AND operation = ${q.filter.operation}` : sql``}`;
  if (q.stat === 'avg' || q.stat === 'max')
    return sql<(Row & { ago: number })[]>`
      SELECT ${cols} ${agoOfMinute(sql, q)}, ${q.stat === 'avg' ? sql`sum(total) / nullif(sum(n), 0)` : sql`max(max)`}::float8 AS v
      FROM logging.latency_minute WHERE ${where} GROUP BY ${cols} ago`;
  const rank = { p50: 0.5, p95: 0.95, p99: 0.99 }[q.stat];
  const rows = await sql<(Row & { ago: number; k: number })[]>`
    WITH h AS (
      SELECT ${cols} ${agoOfMinute(sql, q)}, u.k, sum(u.c)::float8 AS c
      FROM logging.latency_minute, unnest(buckets, counts) AS u(k, c) WHERE ${where} GROUP BY ${cols} ago, u.k),
    r AS (
      SELECT *, sum(c) OVER (PARTITION BY ${cols} ago ORDER BY k) AS run, sum(c) OVER (PARTITION BY ${cols} ago) AS total FROM h)
    SELECT DISTINCT ON (${cols} ago) ${cols} ago, k FROM r WHERE run >= ${rank}::float8 * total ORDER BY ${cols} ago, k`;
  return rows.map(({ k, ...r }) => ({ ...r, v: bucketValue(k) }));
}

/** The end of the last minute each service logged in (matching the filter) since `since`, from the minute counts. */
export async function rollupLastSeen(sql: Sql, filter: LogFilter, since: Date, to: Date): Promise<Map<string, Date>> {
  const rows = await sql<{ service: string; last: Date }[]>`
    SELECT service, max(minute) + interval '1 minute' AS last FROM logging.log_counts_minute
    WHERE minute >= ${since} AND minute < ${to} ${logConditions(sql, filter)} GROUP BY service`;
  return new Map(rows.map((r) => [r.service, r.last]));
}
