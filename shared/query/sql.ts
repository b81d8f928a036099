/**
 * Reads for the query API. Every query covers the active and the archived tables (UNION ALL), so
 * days that retention moved are still found.
 */
import type { Sql, TransactionSql } from '../db/client';
import type { LogRecord, OperationSeries, TraceEvent } from './schema';

export interface LogFilter {
  services?: string[];
  levels?: string[];
  eventType?: string;
  correlationId?: string;
  from?: string;
  to?: string;
  /** Case-insensitive substring of the message. */
  text?: string;
  /** JSONB containment on `data`. */
  data?: Record<string, unknown>;
}

export interface LogCursor {
  timestamp: string;
  id: string;
}

/** A LogRecord as the driver returns it. */
export type StoredLog = Omit<LogRecord, 'level' | 'received_at'> & { level: string; received_at: Date };

/**
 * Postgres estimates any JSONB containment at 0.1% of rows, so it prefers the GIN index even for a
 * common value (symbol=AAPL: 20% of rows), then sorts them all. With a service named, reading the
 * service's rows in page order and filtering is bounded and fast, so containment is written in a
 * form the GIN index does not serve; alone, the GIN index finds rare values fast.
 */
function dataCondition(sql: Sql | TransactionSql, f: LogFilter) {
  const value = JSON.stringify(f.data);
  return f.services?.length ? sql`AND coalesce(data @> ${value}::text::jsonb, false)` : sql`AND data @> ${value}::text::jsonb`;
}

function conditions(sql: Sql | TransactionSql, f: LogFilter, cursor: LogCursor | undefined) {
  return sql`
    ${f.services?.length ? sql`AND service IN ${sql(f.services)}` : sql``}
    ${f.levels?.length ? sql`AND level IN ${sql(f.levels)}` : sql``}
    ${f.eventType ? sql`AND event_type = ${f.eventType}` : sql``}
    ${f.correlationId ? sql`AND correlation_id = ${f.correlationId}` : sql``}
    ${f.from ? sql`AND "timestamp" >= ${f.from}::timestamptz` : sql``}
    ${f.to ? sql`AND "timestamp" < ${f.to}::timestamptz` : sql``}
    ${f.text ? sql`AND message ILIKE ${'%' + f.text.replace(/[\\%_]/g, (c) => '\\' + c) + '%'}` : sql``}
    ${f.data && Object.keys(f.data).length ? dataCondition(sql, f) : sql``}
    ${cursor ? sql`AND ("timestamp", id) < (${cursor.timestamp}::timestamptz, ${cursor.id}::uuid)` : sql``}`;
}

/** The levels and event type whose rows retention keeps longer: they sit in the `extended` partitions only. */
const EXTENDED_LEVELS = new Set(['ERROR', 'CRITICAL']);
const EXTENDED_EVENT_TYPES = new Set(['trading', 'audit']);

/**
 * `AND retention_class = 'extended'` when the filter can only match rows of that class (levels
 * within ERROR and CRITICAL, or event_type trading; logging.retention_class() in the migrations),
 * written as a constant so the planner prunes every `standard` partition. Without it, each
 * standard partition's index is searched for rows it cannot hold.
 */
function classCondition(sql: Sql | TransactionSql, f: LogFilter) {
  return hasClassCondition(f) ? sql`AND retention_class = 'extended'` : sql``;
}

function hasClassCondition(f: LogFilter): boolean {
  return Boolean(
    (f.levels?.length && f.levels.every((l) => EXTENDED_LEVELS.has(l))) ||
      (f.eventType !== undefined && EXTENDED_EVENT_TYPES.has(f.eventType)),
  );
}

/** The /v1/logs filters as SQL conditions (each `AND …`), for other features' queries of system_logs. */
export function logConditions(sql: Sql, f: LogFilter) {
  return conditions(sql, f, undefined);
}

/** Newest first, stable under concurrent ingest: pages continue strictly after (timestamp, id). */
export async function searchLogs(sql: Sql, filter: LogFilter, cursor: LogCursor | undefined, limit: number): Promise<StoredLog[]> {
  // The limit is written into the statement (an integer, checked): as a parameter, Postgres's
  // generic plan cannot tell 50 rows from 50,000 and picks a sort of every match.
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error(`limit must be an integer in 1..10000, got ${limit}`);
  // A search of the extended class is planned for its values each time. postgres.js prepares every
  // statement, and after five runs on a connection Postgres may keep a generic plan that cannot see
  // them: it then guesses a service's share of the rows, and the search for a service with no error
  // walks every error by time (5 M logs: 1.2 s, against 17 ms planned for its values; pooled hosts
  // keep connections for hours). Planning grows with the partitions, so searches of both classes
  // (twice the partitions) keep the generic plan: 47 ms p50 planned each time, 3–5 ms before.
  if (!hasClassCondition(filter)) return pageQuery(sql, filter, cursor, limit);
  return sql.begin(async (tx) => {
    await tx`SET LOCAL plan_cache_mode = force_custom_plan`;
    return pageQuery(tx, filter, cursor, limit);
  });
}

function pageQuery(sql: Sql | TransactionSql, filter: LogFilter, cursor: LogCursor | undefined, limit: number) {
  const top = sql.unsafe(String(limit));
  // Inside each branch the order is the table's timestamp column (s."timestamp", served by the
  // index), not the formatted text column of the same name; outside, the text sorts as the time does.
  const cols = sql`id::text, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "timestamp", received_at, service, level, message, data, correlation_id, event_type`;
  const where = () => sql`${classCondition(sql, filter)} ${conditions(sql, filter, cursor)}`;
  return sql<StoredLog[]>`
    SELECT * FROM (
      (SELECT ${cols}, false AS archived FROM logging.system_logs s WHERE true ${where()}
       ORDER BY s."timestamp" DESC, s.id DESC LIMIT ${top})
      UNION ALL
      (SELECT ${cols}, true AS archived FROM logging.archived_system_logs s WHERE true ${where()}
       ORDER BY s."timestamp" DESC, s.id DESC LIMIT ${top})
    ) t ORDER BY t."timestamp" DESC, t.id DESC LIMIT ${top}`;
}

export interface TailCursor {
  receivedAt: string;
  id: string;
}

/**
 * New rows in arrival order (received_at, id), after `after`: strictly after the cursor when
 * `strict`, else from `after.receivedAt` on (the caller skips what it sent already), so that a
 * batch that committed late is not missed.
 */
export async function tailLogs(
  sql: Sql,
  filter: LogFilter,
  after: TailCursor,
  strict: boolean,
  limit: number,
): Promise<(StoredLog & { received_at_text: string })[]> {
  return sql<(StoredLog & { received_at_text: string })[]>`
    SELECT id::text, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "timestamp",
           to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_at_text, received_at,
           service, level, message, data, correlation_id, event_type, false AS archived
    FROM logging.system_logs
    WHERE ${strict ? sql`(received_at, id) > (${after.receivedAt}::timestamptz, ${after.id}::uuid)` : sql`received_at >= ${after.receivedAt}::timestamptz`}
      ${conditions(sql, filter, undefined)}
    ORDER BY received_at, id LIMIT ${limit}`;
}

/** A TraceEvent as the query returns it: its duration, not yet placed on the timeline. */
export type TraceRow = Omit<TraceEvent, 'offset_ms' | 'duration_ms'> & { execution_time_ms: number | null };

/** Every log and metric of one correlation id, oldest first. */
export async function traceEvents(sql: Sql, correlationId: string, limit = 5000): Promise<TraceRow[]> {
  return sql<TraceRow[]>`
    SELECT kind, id, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "timestamp", service, level, message, operation, execution_time_ms, data, event_type
    FROM (
      SELECT 'log' AS kind, id::text, "timestamp", service, level, message, NULL::text AS operation, NULL::float8 AS execution_time_ms, data, event_type
        FROM logging.system_logs WHERE correlation_id = ${correlationId}
      UNION ALL
      SELECT 'log', id::text, "timestamp", service, level, message, NULL, NULL, data, event_type
        FROM logging.archived_system_logs WHERE correlation_id = ${correlationId}
      UNION ALL
      SELECT 'metric', id::text, "timestamp", service, NULL, NULL, operation, execution_time_ms::float8, data, NULL
        FROM logging.performance_logs WHERE correlation_id = ${correlationId}
      UNION ALL
      SELECT 'metric', id::text, "timestamp", service, NULL, NULL, operation, execution_time_ms::float8, data, NULL
        FROM logging.archived_performance_logs WHERE correlation_id = ${correlationId}
    ) t ORDER BY t."timestamp", kind, id LIMIT ${limit}`;
}

export interface PerformanceStat {
  service: string;
  operation: string;
  count: number;
  avg_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** The seed's performance query, with percentiles. */
export async function performanceStats(
  sql: Sql,
  since: string,
  filter: { service?: string; operation?: string },
): Promise<PerformanceStat[]> {
  return sql<PerformanceStat[]>`
    SELECT service, operation, count(*)::int AS count,
           round(avg(execution_time_ms), 3)::float8 AS avg_ms,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY execution_time_ms))::numeric, 3)::float8 AS p50_ms,
           round((percentile_cont(0.95) WITHIN GROUP (ORDER BY execution_time_ms))::numeric, 3)::float8 AS p95_ms,
           round((percentile_cont(0.99) WITHIN GROUP (ORDER BY execution_time_ms))::numeric, 3)::float8 AS p99_ms,
           max(execution_time_ms)::float8 AS max_ms
    FROM (
      SELECT service, operation, execution_time_ms, "timestamp" FROM logging.performance_logs
      UNION ALL
      SELECT service, operation, execution_time_ms, "timestamp" FROM logging.archived_performance_logs
    ) t
    WHERE "timestamp" > ${since}::timestamptz
      ${filter.service ? sql`AND service = ${filter.service}` : sql``}
      ${filter.operation ? sql`AND operation = ${filter.operation}` : sql``}
    GROUP BY service, operation ORDER BY avg_ms DESC`;
}

export interface ErrorStat {
  service: string;
  level: string;
  count: number;
  last_occurrence: string;
}

/** The seed's error analysis, and the error count per time bucket for a chart. */
export async function errorStats(
  sql: Sql,
  since: string,
  bucketSeconds: number,
  service?: string,
): Promise<{ byService: ErrorStat[]; buckets: { bucket: string; count: number }[] }> {
  const errors = sql`
    SELECT service, level, "timestamp" FROM logging.system_logs WHERE level IN ('ERROR', 'CRITICAL') AND retention_class = 'extended' AND "timestamp" > ${since}::timestamptz ${service ? sql`AND service = ${service}` : sql``}
    UNION ALL
    SELECT service, level, "timestamp" FROM logging.archived_system_logs WHERE level IN ('ERROR', 'CRITICAL') AND retention_class = 'extended' AND "timestamp" > ${since}::timestamptz ${service ? sql`AND service = ${service}` : sql``}`;
  const byService = await sql<ErrorStat[]>`
    SELECT service, level, count(*)::int AS count, to_char(max("timestamp") AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last_occurrence
    FROM (${errors}) e GROUP BY service, level ORDER BY count DESC`;
  const buckets = await sql<{ bucket: string; count: number }[]>`
    SELECT to_char(date_bin(make_interval(secs => ${bucketSeconds}), "timestamp", 'epoch'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS bucket, count(*)::int AS count
    FROM (${errors}) e GROUP BY 1 ORDER BY 1`;
  return { byService, buckets };
}

/**
 * Each operation's p95 latency per time bucket (date_bin from the epoch, UTC): one series per
 * service and operation, points oldest first. Empty buckets have no point.
 */
export async function latencySeries(
  sql: Sql,
  since: string,
  bucketSeconds: number,
  filter: { service?: string; operation?: string },
): Promise<OperationSeries[]> {
  const where = sql`"timestamp" > ${since}::timestamptz
    ${filter.service ? sql`AND service = ${filter.service}` : sql``}
    ${filter.operation ? sql`AND operation = ${filter.operation}` : sql``}`;
  const rows = await sql<(Omit<OperationSeries, 'points'> & OperationSeries['points'][number])[]>`
    SELECT service, operation,
           to_char(date_bin(make_interval(secs => ${bucketSeconds}), "timestamp", 'epoch'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS bucket,
           count(*)::int AS count,
           round((percentile_cont(0.95) WITHIN GROUP (ORDER BY execution_time_ms))::numeric, 3)::float8 AS p95_ms
    FROM (
      SELECT service, operation, execution_time_ms, "timestamp" FROM logging.performance_logs WHERE ${where}
      UNION ALL
      SELECT service, operation, execution_time_ms, "timestamp" FROM logging.archived_performance_logs WHERE ${where}
    ) t
    GROUP BY service, operation, bucket ORDER BY service, operation, bucket`;
  const series: OperationSeries[] = [];
  for (const { service, operation, ...point } of rows) {
    const last = series.at(-1);
    if (last && last.service === service && last.operation === operation) last.points.push(point);
    else series.push({ service, operation, points: [point] });
  }
  return series;
}
