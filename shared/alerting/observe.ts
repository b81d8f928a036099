/**
 * What a rule sees at one minute: its value per group over its window, read from the primary's
 * system_logs and performance_logs (the active tables: windows are at most a week old), and the
 * severity of each value. Windows end on the evaluated minute, so an evaluation is deterministic.
 */
import { LEVELS } from '../api';
import type { Sql } from '../db/client';
import { logConditions, type LogFilter } from '../query';
import { hhmm, inInterval, localClock } from './clock';
import { anomalyBand, median } from './robust';
import type { GroupField, Rule, RuleLogFilter, Schedule } from './rules';
import { durationSeconds } from './rules';
import { classify, type Observation, type Severity } from './state';
import { pipelineMetrics } from './pipeline';

export type Labels = Partial<Record<GroupField, string>>;

export interface GroupObservation {
  labels: Labels;
  obs: Observation;
}

/** A rule's observations at `minute`, by group key. */
export type Observations = Map<string, GroupObservation>;

/** The stable key of a group: its labels in the rule's groupBy order ('' for an ungrouped rule). */
export function groupKey(groupBy: readonly GroupField[], labels: Labels): string {
  return groupBy.map((g) => `${g}=${labels[g] ?? ''}`).join(',');
}

export function toLogFilter(f: RuleLogFilter, extra: Labels = {}): LogFilter {
  return {
    services: (extra.service ?? f.service) ? [extra.service ?? f.service!] : undefined,
    levels: f.level ? LEVELS.slice(LEVELS.indexOf(f.level)) : undefined,
    eventType: extra.event_type ?? f.event_type,
    text: f.q,
    data: f.data,
  };
}

interface Row {
  service?: string;
  operation?: string;
  event_type?: string;
  v: number | null;
  n?: number;
}

function labelsOf(row: Row, groupBy: readonly GroupField[]): Labels {
  return Object.fromEntries(groupBy.map((g) => [g, row[g] ?? ''])) as Labels;
}

function grouping(sql: Sql, groupBy: readonly string[]) {
  return groupBy.length
    ? { cols: sql`${sql(groupBy as string[])},`, by: sql`GROUP BY ${sql(groupBy as string[])}` }
    : { cols: sql``, by: sql`` };
}

export function statExpression(sql: Sql, stat: 'p50' | 'p95' | 'p99' | 'avg' | 'max') {
  if (stat === 'avg') return sql`avg(execution_time_ms)::float8`;
  if (stat === 'max') return sql`max(execution_time_ms)::float8`;
  const q = { p50: 0.5, p95: 0.95, p99: 0.99 }[stat];
  return sql`(percentile_cont(${q}::float8) WITHIN GROUP (ORDER BY execution_time_ms))::float8`;
}

/** Thresholds for a group: the first override whose labels all match, else the rule's. */
export function thresholdsFor(rule: Rule & { thresholds: object }, labels: Labels) {
  const o = rule.overrides.find((x) => Object.entries(x.match).every(([k, v]) => labels[k as GroupField] === v));
  return o ? o.thresholds : (rule as { thresholds: Parameters<typeof classify>[1] }).thresholds;
}

type Active = (key: string) => Severity | null;

async function logThreshold(sql: Sql, rule: Extract<Rule, { kind: 'log_threshold' }>, to: Date, active: Active): Promise<Observations> {
  const from = new Date(to.getTime() - durationSeconds(rule.window) * 1000);
  const g = grouping(sql, rule.groupBy);
  const window = sql`"timestamp" >= ${from} AND "timestamp" < ${to}`;
  const rows =
    rule.measure === 'count'
      ? await sql<
          Row[]
        >`SELECT ${g.cols} count(*)::float8 AS v FROM logging.system_logs WHERE ${window} ${logConditions(sql, toLogFilter(rule.filter))} ${g.by}`
      : await sql<Row[]>`
          SELECT ${g.cols} count(*) FILTER (WHERE true ${logConditions(sql, toLogFilter(rule.filter))})::float8 / nullif(count(*), 0) AS v, count(*)::int AS n
          FROM logging.system_logs WHERE ${window} ${logConditions(sql, { services: rule.filter.service ? [rule.filter.service] : undefined })} ${g.by}`;
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

async function absence(sql: Sql, rule: Extract<Rule, { kind: 'absence' }>, to: Date, known: string[]): Promise<Observations> {
  const windowMin = durationSeconds(rule.window) / 60;
  const since = new Date(to.getTime() - 86_400_000);
  const rows = await sql<{ service: string; last: Date }[]>`
    SELECT service, max("timestamp") AS last FROM logging.system_logs
    WHERE "timestamp" >= ${since} AND "timestamp" < ${to}
      ${rule.services ? sql`AND service IN ${sql(rule.services)}` : sql``}
      ${logConditions(sql, { ...toLogFilter(rule.filter), services: undefined })}
    GROUP BY service`;
  const last = new Map(rows.map((r) => [r.service, r.last]));
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

async function anomaly(sql: Sql, rule: Extract<Rule, { kind: 'anomaly' }>, to: Date): Promise<Observations> {
  const w = durationSeconds(rule.window);
  const perDay = 86_400 / w;
  const g = grouping(sql, rule.groupBy);
  const ms = (sec: number) => new Date(to.getTime() - sec * 1000);
  const ranges = sql`(("timestamp" >= ${ms(86_400 + w)} AND "timestamp" < ${to}) OR ("timestamp" >= ${ms(7 * 86_400 + w)} AND "timestamp" < ${ms(7 * 86_400)}))`;
  const byAgo = rule.groupBy.length ? sql`GROUP BY ${sql(rule.groupBy)}, ago` : sql`GROUP BY ago`;
  const ago = sql`floor(extract(epoch FROM (${to}::timestamptz - "timestamp")) / ${w})::int AS ago`;
  const rows =
    rule.metric === 'errors'
      ? await sql<(Row & { ago: number })[]>`
          SELECT ${g.cols} ${ago}, count(*)::float8 AS v FROM logging.system_logs WHERE ${ranges}
            ${logConditions(sql, toLogFilter({ ...rule.filter, level: rule.filter.level ?? 'ERROR' }))}
          ${byAgo}`
      : await sql<(Row & { ago: number })[]>`
          SELECT ${g.cols} ${ago}, ${statExpression(sql, rule.stat)} AS v FROM logging.performance_logs WHERE ${ranges}
            ${rule.filter.service ? sql`AND service = ${rule.filter.service}` : sql``}
            ${rule.filter.operation ? sql`AND operation = ${rule.filter.operation}` : sql``}
          ${byAgo}`;
  const byGroup = new Map<string, { labels: Labels; series: Map<number, number> }>();
  for (const r of rows) {
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
export function anomalyObservation(rule: Extract<Rule, { kind: 'anomaly' }>, series: Map<number, number>, perDay: number): Observation {
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
