/**
 * What a rule sees at one minute: its value per group over its window, read from the primary's
 * system_logs and performance_logs (the active tables: windows are at most a week old) or, for
 * what spans hours or days, from the per-minute rollups (rollup.ts), and the severity of each
 * value. Windows end on the evaluated minute, so an evaluation is deterministic.
 */
import type { Sql } from '../db/client';
import { logConditions } from '../query';
import { anomaly } from './anomaly';
import { hhmm, inInterval, localClock } from './clock';
import { grouping, groupKey, labelsOf, statExpression, toLogFilter, type Labels, type Observations, type Row } from './groups';
import { pipelineMetrics } from './pipeline';
import { answersFilter, rollupLastSeen, rollupsCover } from './rollup';
import type { GroupField, Rule, Schedule } from './rules';
import { durationSeconds } from './rules';
import { classify, type Severity } from './state';

/** Thresholds for a group: the first override whose labels all match, else the rule's. */
export function thresholdsFor(rule: Rule & { thresholds: object }, labels: Labels) {
  const o = rule.overrides.find((x) => Object.entries(x.match).every(([k, v]) => labels[k as GroupField] === v));
  return o ? o.thresholds : (rule as { thresholds: Parameters<typeof classify>[1] }).thresholds;
}

type Active = (key: string) => Severity | null;

/** Log threshold windows at least this long are counted from the minute rollups when they can be. */
const ROLLUP_WINDOW_SECONDS = 1800;

/**
 * Where a rule's logs are counted: the raw logs, or for a long window the minute counts when they
 * hold it and can answer the filter. `count(cond)` counts the rows of the window matching `cond`.
 */
async function logCounts(sql: Sql, rule: Extract<Rule, { kind: 'log_threshold' }>, from: Date, to: Date) {
  const fromRollups =
    durationSeconds(rule.window) >= ROLLUP_WINDOW_SECONDS && answersFilter(rule.filter) && (await rollupsCover(sql, from, to));
  return fromRollups
    ? {
        table: sql`logging.log_counts_minute WHERE minute >= ${from} AND minute < ${to}`,
        count: (cond: Fragment) => sql`coalesce(sum(n) FILTER (WHERE true ${cond}), 0)`,
      }
    : {
        table: sql`logging.system_logs WHERE "timestamp" >= ${from} AND "timestamp" < ${to}`,
        count: (cond: Fragment) => sql`count(*) FILTER (WHERE true ${cond})`,
      };
}
type Fragment = ReturnType<typeof logConditions>;

async function logThreshold(sql: Sql, rule: Extract<Rule, { kind: 'log_threshold' }>, to: Date, active: Active): Promise<Observations> {
  const from = new Date(to.getTime() - durationSeconds(rule.window) * 1000);
  const g = grouping(sql, rule.groupBy);
  const { table, count } = await logCounts(sql, rule, from, to);
  const matching = logConditions(sql, toLogFilter(rule.filter));
  const rows =
    rule.measure === 'count'
      ? await sql<Row[]>`SELECT ${g.cols} ${count(sql``)}::float8 AS v FROM ${table} ${matching} ${g.by}`
      : await sql<Row[]>`
          SELECT ${g.cols} ${count(matching)}::float8 / nullif(${count(sql``)}, 0) AS v, ${count(sql``)}::int AS n
          FROM ${table} ${logConditions(sql, { services: rule.filter.service ? [rule.filter.service] : undefined })} ${g.by}`;
  return valued(rule, rows, active);
}

async function latency(sql: Sql, rule: Extract<Rule, { kind: 'latency' }>, to: Date, active: Active): Promise<Observations> {
  const w = durationSeconds(rule.window) * 1000;
  const g = grouping(sql, rule.groupBy);
  const read = (end: Date) => sql<Row[]>`
    SELECT ${g.cols} ${statExpression(sql, rule.stat)} AS v FROM logging.performance_logs
    WHERE "timestamp" >= ${new Date(end.getTime() - w)} AND "timestamp" < ${end}
      ${rule.filter.service ? sql`AND service = ${rule.filter.service}` : sql``}
      ${rule.filter.operation ? sql`AND operation = ${rule.filter.operation}` : sql``}
    ${g.by}`;
  const now = await read(to);
  if (!rule.compareTo) return valued(rule, now, active);
  const back = new Date(to.getTime() - (rule.compareTo === 'day' ? 1 : 7) * 86_400_000);
  const then = new Map((await read(back)).map((r) => [groupKey(rule.groupBy, labelsOf(r, rule.groupBy)), r.v]));
  return valued(
    rule,
    now.map((r) => {
      const base = then.get(groupKey(rule.groupBy, labelsOf(r, rule.groupBy)));
      return { ...r, v: r.v !== null && base ? r.v / base : null };
    }),
    active,
  );
}

/** Rows of (group, value) as observations: a null value (no rows to measure) is NoData. */
function valued(rule: Rule & { direction: 'above' | 'below'; thresholds: object }, rows: Row[], active: Active): Observations {
  const out: Observations = new Map();
  if (rows.length === 0 && rule.groupBy.length === 0) rows = [{ v: null }];
  for (const row of rows) {
    const labels = labelsOf(row, rule.groupBy);
    const key = groupKey(rule.groupBy, labels);
    if (row.v === null || !Number.isFinite(row.v)) {
      out.set(key, { labels, obs: { kind: 'nodata' } });
      continue;
    }
    const c = classify(row.v, thresholdsFor(rule, labels), rule.direction, active(key));
    out.set(key, { labels, obs: { kind: 'value', value: row.v, ...c } });
  }
  return out;
}

/** Whether `at` falls inside the schedule, and how many minutes ago the schedule's day opened. */
export function withinSchedule(at: Date, s: Schedule): { inside: boolean; openedMinutesAgo: number } {
  return { inside: inInterval(at, s.timezone, s), openedMinutesAgo: localClock(at, s.timezone).minutes - hhmm(s.start) };
}

/**
 * When each service last logged (matching the rule's filter) in the day before `to`: within the
 * rule's window from the raw logs, before it from the minute rollups when they cover the day.
 */
async function lastSeen(sql: Sql, rule: Extract<Rule, { kind: 'absence' }>, to: Date): Promise<Map<string, Date>> {
  const filter = { ...toLogFilter(rule.filter), services: rule.services };
  const since = new Date(to.getTime() - 86_400_000);
  const windowStart = new Date(to.getTime() - durationSeconds(rule.window) * 1000);
  const raw = async (from: Date) => {
    const rows = await sql<{ service: string; last: Date }[]>`
      SELECT service, max("timestamp") AS last FROM logging.system_logs
      WHERE "timestamp" >= ${from} AND "timestamp" < ${to} ${logConditions(sql, filter)} GROUP BY service`;
    return new Map(rows.map((r) => [r.service, r.last]));
  };
  if (!answersFilter(rule.filter) || !(await rollupsCover(sql, since, windowStart))) return raw(since);
  const older = await rollupLastSeen(sql, filter, since, windowStart);
  for (const [service, last] of await raw(windowStart)) older.set(service, last);
  return older;
}

async function absence(sql: Sql, rule: Extract<Rule, { kind: 'absence' }>, to: Date, known: string[]): Promise<Observations> {
  const windowMin = durationSeconds(rule.window) / 60;
  const last = await lastSeen(sql, rule, to);
  const services = new Set([...(rule.services ?? [...last.keys(), ...known])]);
  const schedule = rule.schedule ? withinSchedule(new Date(to.getTime() - 60_000), rule.schedule) : null;
  const out: Observations = new Map();
  for (const service of services) {
    const labels = { service };
    const seen = last.get(service);
    let silentMin = seen ? (to.getTime() - seen.getTime()) / 60_000 : 24 * 60;
    if (schedule) silentMin = schedule.inside ? Math.min(silentMin, schedule.openedMinutesAgo + 1) : 0;
    const breach = silentMin >= windowMin;
    out.set(groupKey(['service'], labels), {
      labels,
      obs: { kind: 'value', value: Math.round(silentMin * 100) / 100, threshold: windowMin, severity: breach ? rule.severity : null },
    });
  }
  return out;
}

async function pipeline(sql: Sql, rule: Extract<Rule, { kind: 'pipeline' }>, to: Date, active: Active): Promise<Observations> {
  const metrics = await pipelineMetrics(sql, to);
  return valued(rule, [{ v: metrics[rule.metric] }], active);
}

/**
 * The rule's observations at `to` (the end of its window). `active` gives a group's current
 * severity (for hysteresis); `known` the groups the rule has state for (absence: services that
 * went silent more than a day ago are still expected).
 */
export function observe(sql: Sql, rule: Rule, to: Date, active: Active, known: Labels[]): Promise<Observations> {
  switch (rule.kind) {
    case 'log_threshold':
      return logThreshold(sql, rule, to, active);
    case 'latency':
      return latency(sql, rule, to, active);
    case 'absence':
      return absence(sql, rule, to, known.map((l) => l.service ?? '').filter(Boolean));
    case 'anomaly':
      return anomaly(sql, rule, to);
    case 'pipeline':
      return pipeline(sql, rule, to, active);
  }
}

/**
 * Up to five correlation ids behind a firing group, for links to the trace timeline: the latest
 * matching logs (log and error rules) or the slowest calls (latency rules) in the window.
 */
export async function samplesFor(sql: Sql, rule: Rule, labels: Labels, to: Date): Promise<string[]> {
  const from = new Date(to.getTime() - durationSeconds(rule.window) * 1000);
  const window = sql`"timestamp" >= ${from} AND "timestamp" < ${to} AND correlation_id IS NOT NULL`;
  if (rule.kind === 'latency' || (rule.kind === 'anomaly' && rule.metric === 'latency')) {
    const service = labels.service ?? rule.filter.service;
    const operation = labels.operation ?? rule.filter.operation;
    const rows = await sql<{ correlation_id: string }[]>`
      SELECT correlation_id FROM logging.performance_logs WHERE ${window}
        ${service ? sql`AND service = ${service}` : sql``} ${operation ? sql`AND operation = ${operation}` : sql``}
      GROUP BY correlation_id ORDER BY max(execution_time_ms) DESC LIMIT 5`;
    return rows.map((r) => r.correlation_id);
  }
  if (rule.kind !== 'log_threshold' && rule.kind !== 'anomaly') return [];
  const filter = rule.kind === 'anomaly' ? { ...rule.filter, level: rule.filter.level ?? ('ERROR' as const) } : rule.filter;
  const rows = await sql<{ correlation_id: string }[]>`
    SELECT correlation_id FROM logging.system_logs WHERE ${window} ${logConditions(sql, toLogFilter(filter, labels))}
    GROUP BY correlation_id ORDER BY max("timestamp") DESC LIMIT 5`;
  return rows.map((r) => r.correlation_id);
}
