/**
 * Anomaly rules: the current window's error count or latency against a robust band around the
 * trailing day's windows of the same size, the same window yesterday and last week.
 *
 * The current window is read from the raw tables (exact, and at most an hour of rows). The
 * baseline comes from the per-minute rollups when they cover the week-ago band and the filter is
 * one they can answer (no `q` or `data` filter); otherwise from the raw tables (a day and a week-
 * ago window of records: the slow path, used after a deploy until the backfill is done).
 */
import type { Sql } from '../db/client';
import { logConditions } from '../query';
import { grouping, groupKey, labelsOf, statExpression, toLogFilter, type Labels, type Observations, type Row } from './groups';
import { anomalyBand, median } from './robust';
import { answersFilter, rollupErrorSeries, rollupLatencySeries, rollupsCover } from './rollup';
import { durationSeconds, type Rule } from './rules';
import type { Observation, Severity } from './state';

type AnomalyRule = Extract<Rule, { kind: 'anomaly' }>;
export type SeriesRow = Row & { ago: number };

/** The windows (by how many windows ago they ended) a series reads, as [from, to) instants. */
export interface SeriesRange {
  from: Date;
  to: Date;
}

const DAY = 86_400_000;

function errorFilter(rule: AnomalyRule) {
  return toLogFilter({ ...rule.filter, level: rule.filter.level ?? 'ERROR' });
}

/** The rule's value per group and window ago, from the raw tables, over `ranges`. */
async function rawSeries(sql: Sql, rule: AnomalyRule, to: Date, ranges: SeriesRange[]): Promise<SeriesRow[]> {
  const w = durationSeconds(rule.window);
  const g = grouping(sql, rule.groupBy);
  const inRanges = ranges.map((r) => sql`("timestamp" >= ${r.from} AND "timestamp" < ${r.to})`).reduce((a, b) => sql`${a} OR ${b}`);
  const byAgo = rule.groupBy.length ? sql`GROUP BY ${sql(rule.groupBy)}, ago` : sql`GROUP BY ago`;
  // Window a holds [to − (a+1)·w, to − a·w): the current one is 0.
  const ago = sql`ceil(extract(epoch FROM (${to}::timestamptz - "timestamp")) / ${w})::int - 1 AS ago`;
  if (rule.metric === 'errors')
    return sql<SeriesRow[]>`
      SELECT ${g.cols} ${ago}, count(*)::float8 AS v FROM logging.system_logs WHERE (${inRanges})
        ${logConditions(sql, errorFilter(rule))}
      ${byAgo}`;
  return sql<SeriesRow[]>`
    SELECT ${g.cols} ${ago}, ${statExpression(sql, rule.stat)} AS v FROM logging.performance_logs WHERE (${inRanges})
      ${rule.filter.service ? sql`AND service = ${rule.filter.service}` : sql``}
      ${rule.filter.operation ? sql`AND operation = ${rule.filter.operation}` : sql``}
    ${byAgo}`;
}

/** Whether the rollups can give this rule's baseline at `to`. */
async function baselineFromRollups(sql: Sql, rule: AnomalyRule, to: Date): Promise<boolean> {
  if (rule.metric === 'errors' && !answersFilter(rule.filter)) return false;
  const w = durationSeconds(rule.window) * 1000;
  return rollupsCover(sql, new Date(to.getTime() - 7 * DAY - w), new Date(to.getTime() - w));
}

async function series(sql: Sql, rule: AnomalyRule, to: Date): Promise<SeriesRow[]> {
  const w = durationSeconds(rule.window) * 1000;
  const at = (ms: number) => new Date(to.getTime() - ms);
  const baseline = [
    { from: at(DAY + w), to: at(w) },
    { from: at(7 * DAY + w), to: at(7 * DAY) },
  ];
  if (!(await baselineFromRollups(sql, rule, to))) return rawSeries(sql, rule, to, [{ from: at(w), to }, ...baseline]);
  const current = await rawSeries(sql, rule, to, [{ from: at(w), to }]);
  const past =
    rule.metric === 'errors'
      ? await rollupErrorSeries(sql, { to, windowSeconds: w / 1000, groupBy: rule.groupBy, filter: errorFilter(rule), ranges: baseline })
      : await rollupLatencySeries(sql, {
          to,
          windowSeconds: w / 1000,
          groupBy: rule.groupBy,
          filter: rule.filter,
          stat: rule.stat,
          ranges: baseline,
        });
  return [...current.filter((r) => r.ago === 0), ...past];
}

export async function anomaly(sql: Sql, rule: AnomalyRule, to: Date): Promise<Observations> {
  const perDay = 86_400 / durationSeconds(rule.window);
  const byGroup = new Map<string, { labels: Labels; series: Map<number, number> }>();
  for (const r of await series(sql, rule, to)) {
    const labels = labelsOf(r, rule.groupBy);
    const key = groupKey(rule.groupBy, labels);
    const entry = byGroup.get(key) ?? { labels, series: new Map() };
    if (r.v !== null) entry.series.set(r.ago, r.v);
    byGroup.set(key, entry);
  }
  if (byGroup.size === 0 && rule.groupBy.length === 0) byGroup.set('', { labels: {}, series: new Map() });
  const out: Observations = new Map();
  for (const [key, { labels, series }] of byGroup) out.set(key, { labels, obs: anomalyObservation(rule, series, perDay) });
  return out;
}

/** The current bucket (ago 0) against the band of the trailing day (ago 1…perDay), yesterday and last week. */
export function anomalyObservation(rule: AnomalyRule, series: Map<number, number>, perDay: number): Observation {
  const counts = rule.metric === 'errors';
  const at = (ago: number) => series.get(ago) ?? (counts ? 0 : undefined);
  const trailing: number[] = [];
  for (let a = 1; a <= perDay; a++) {
    const v = at(a);
    if (v !== undefined) trailing.push(v);
  }
  const current = at(0);
  if (current === undefined || trailing.length < Math.min(10, perDay)) return { kind: 'nodata' };
  const centers = [median(trailing), at(perDay), at(7 * perDay)].filter((v): v is number => v !== undefined);
  const band = anomalyBand(trailing, centers, rule.k, rule.minDeviation);
  const critical = rule.criticalK ? anomalyBand(trailing, centers, rule.criticalK, rule.minDeviation) : null;
  const beyond = (b: { lower: number; upper: number }) =>
    (rule.direction !== 'below' && current > b.upper) || (rule.direction !== 'above' && current < b.lower);
  const severity: Severity | null = critical && beyond(critical) ? 'critical' : beyond(band) ? 'warning' : null;
  const threshold = rule.direction === 'below' || (rule.direction === 'both' && current < band.lower) ? band.lower : band.upper;
  return { kind: 'value', value: current, threshold: Math.round(threshold * 1000) / 1000, severity };
}
