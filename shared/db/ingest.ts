import type { Sql } from './client';

/** A system log as stored: id and timestamp always set (by the client or the server). */
export interface LogRow {
  id: string;
  timestamp: string;
  service: string;
  level: string;
  message: string;
  data: Record<string, unknown> | null;
  correlation_id: string | null;
  event_type: string | null;
}

export interface MetricRow {
  id: string;
  timestamp: string;
  service: string;
  operation: string;
  execution_time_ms: number;
  memory_usage_mb: number | null;
  cpu_usage_percent: number | null;
  correlation_id: string | null;
  data: Record<string, unknown> | null;
}

export interface InsertResult {
  /** Rows written now; the others of the batch were stored already. */
  logsInserted: number;
  metricsInserted: number;
}

/**
 * Writes a batch of both kinds in one statement (one round trip, one transaction). The batch goes
 * as one JSON parameter per table, expanded by json_to_recordset, so a batch of any size is one
 * statement with two parameters. A record already stored (same id and timestamp) is skipped.
 */
export async function insertBatch(sql: Sql, logs: readonly LogRow[], metrics: readonly MetricRow[]): Promise<InsertResult> {
  const [row] = await sql<{ logs: number; metrics: number }[]>`
    WITH l AS (
      INSERT INTO logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp")
      SELECT id, service, level, message, data, correlation_id, event_type, "timestamp"
      FROM json_to_recordset(${JSON.stringify(logs)}::text::json) AS r(
        id uuid, service text, level text, message text, data jsonb, correlation_id text, event_type text, "timestamp" timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), m AS (
      INSERT INTO logging.performance_logs (id, service, operation, execution_time_ms, memory_usage_mb, cpu_usage_percent, correlation_id, data, "timestamp")
      SELECT id, service, operation, execution_time_ms, memory_usage_mb, cpu_usage_percent, correlation_id, data, "timestamp"
      FROM json_to_recordset(${JSON.stringify(metrics)}::text::json) AS r(
        id uuid, service text, operation text, execution_time_ms numeric, memory_usage_mb numeric, cpu_usage_percent numeric,
        correlation_id text, data jsonb, "timestamp" timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM l)::int AS logs, (SELECT count(*) FROM m)::int AS metrics`;
  return { logsInserted: row!.logs, metricsInserted: row!.metrics };
}
