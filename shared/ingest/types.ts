/** The rows ingest stores: what validation makes of a record, ids and timestamps fixed. */

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
