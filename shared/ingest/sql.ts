import type { Sql } from '../db/client';
import type { LogRow, MetricRow } from './types';

export interface InsertResult {
  /** Rows written now; the others of the batch were stored already. */
  logsInserted: number;
  metricsInserted: number;
}

/** A record stored this long after its minute ended counts as late (see lateMinutes). */
export const LATE_AFTER_MS = 8 * 60_000;

/**
 * The minutes (ISO) of the records that arrive late: a replay after an outage, a client's spool.
 * They are noted in logging.late_minutes, in the batch's statement, so that the per-minute
 * rollups alert rules read roll those minutes again.
 */
export function lateMinutes(batches: readonly (readonly { timestamp: string }[])[], now = Date.now()): string[] {
  const cutoff = now - LATE_AFTER_MS;
  const minutes = new Set<number>();
  for (const rows of batches)
    for (const r of rows) {
      const t = Date.parse(r.timestamp);
      if (t < cutoff) minutes.add(t - (((t % 60_000) + 60_000) % 60_000));
    }
  return [...minutes].map((m) => new Date(m).toISOString());
}

/**
 * Writes a batch in one statement (one round trip, one transaction), one bulk INSERT per table
 * that has records. Each table's records go as one JSON parameter expanded by json_to_recordset,
 * so a batch of any size has at most two parameters. A record already stored (same id and
 * timestamp, hence the same retention class) is skipped. A table without records is left out of
 * the statement: planning an INSERT into a partitioned table costs even for zero rows, on every
 * new connection.
 */
export async function insertBatch(sql: Sql, logs: readonly LogRow[], metrics: readonly MetricRow[]): Promise<InsertResult> {
  const logsInsert = sql`
    INSERT INTO logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", retention_class)
    SELECT id, service, level, message, data, correlation_id, event_type, "timestamp", logging.retention_class(level, event_type)
    FROM json_to_recordset(${JSON.stringify(logs)}::text::json) AS r(
      id uuid, service text, level text, message text, data jsonb, correlation_id text, event_type text, "timestamp" timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING 1`;
  const metricsInsert = sql`
    INSERT INTO logging.performance_logs (id, service, operation, execution_time_ms, memory_usage_mb, cpu_usage_percent, correlation_id, data, "timestamp")
    SELECT id, service, operation, execution_time_ms, memory_usage_mb, cpu_usage_percent, correlation_id, data, "timestamp"
    FROM json_to_recordset(${JSON.stringify(metrics)}::text::json) AS r(
      id uuid, service text, operation text, execution_time_ms numeric, memory_usage_mb numeric, cpu_usage_percent numeric,
      correlation_id text, data jsonb, "timestamp" timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING 1`;
  const late = lateMinutes([logs, metrics]);
  const noteLate = late.length
    ? sql`late AS (INSERT INTO logging.late_minutes (minute)
        SELECT value::timestamptz FROM json_array_elements_text(${JSON.stringify(late)}::text::json)),`
    : sql``;
  if (metrics.length === 0) {
    if (logs.length === 0) return { logsInserted: 0, metricsInserted: 0 };
    const [row] = await sql<{ n: number }[]>`WITH ${noteLate} l AS (${logsInsert}) SELECT count(*)::int AS n FROM l`;
    return { logsInserted: row!.n, metricsInserted: 0 };
  }
  if (logs.length === 0) {
    const [row] = await sql<{ n: number }[]>`WITH ${noteLate} m AS (${metricsInsert}) SELECT count(*)::int AS n FROM m`;
    return { logsInserted: 0, metricsInserted: row!.n };
  }
  const [row] = await sql<{ logs: number; metrics: number }[]>`
    WITH ${noteLate} l AS (${logsInsert}), m AS (${metricsInsert})
    SELECT (SELECT count(*) FROM l)::int AS logs, (SELECT count(*) FROM m)::int AS metrics`;
  return { logsInserted: row!.logs, metricsInserted: row!.metrics };
}
