/** What the rule kinds share: groups and their labels, the query parts that read them, observations. */
import { LEVELS } from '../api';
import type { Sql } from '../db/client';
import type { LogFilter } from '../query';
import type { GroupField, RuleLogFilter } from './rules';
import type { Observation } from './state';

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

export interface Row {
  service?: string;
  operation?: string;
  event_type?: string;
  v: number | null;
  n?: number;
}

export function labelsOf(row: Row, groupBy: readonly GroupField[]): Labels {
  return Object.fromEntries(groupBy.map((g) => [g, row[g] ?? ''])) as Labels;
}

export function grouping(sql: Sql, groupBy: readonly string[]) {
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
