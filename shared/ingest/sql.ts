import type { Sql } from '../db/client';
import type { LogRow, MetricRow } from './types';

export interface InsertResult {
  /** Rows written now; the others of the batch were stored already. */
  logsInserted: number;
  metricsInserted: number;
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
  if (metrics.length === 0) {
    if (logs.length === 0) return { logsInserted: 0, metricsInserted: 0 };
    const [row] = await sql<{ n: number }[]>`WITH l AS (${logsInsert}) SELECT count(*)::int AS n FROM l`;
    return { logsInserted: row!.n, metricsInserted: 0 };
  }
  if (logs.length === 0) {
    const [row] = await sql<{ n: number }[]>`WITH m AS (${metricsInsert}) SELECT count(*)::int AS n FROM m`;
    return { logsInserted: 0, metricsInserted: row!.n };
  }
  const [row] = await sql<{ logs: number; metrics: number }[]>`
    WITH l AS (${logsInsert}), m AS (${metricsInsert})
    SELECT (SELECT count(*) FROM l)::int AS logs, (SELECT count(*) FROM m)::int AS metrics`;
  return { logsInserted: row!.logs, metricsInserted: row!.metrics };
}
