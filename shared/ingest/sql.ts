import type { Sql, TransactionSql } from '../db/client';
import { copyField, copyIn } from '../db/copy';
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
 * The class of a row, as logging.retention_class() in the migrations says (extended for ERROR,
 * CRITICAL or event_type trading or audit). The table's CHECK refuses a row whose class differs, so a
 * disagreement costs speed (the COPY fails and the batch is inserted instead), never rows.
 */
export function retentionClass(level: string, eventType: string | null): 'extended' | 'standard' {
  return level === 'ERROR' || level === 'CRITICAL' || eventType === 'trading' || eventType === 'audit' ? 'extended' : 'standard';
}

/** Batches from this many records on try COPY first: below it, its extra round trips cost more than it saves. */
export const COPY_MIN_RECORDS = 100;

/**
 * Writes a batch, idempotently by id: a record already stored (same id and timestamp, hence the
 * same class) is skipped. Large batches are first COPYed in one transaction, the fast path of a
 * first delivery (COPY writes a page of rows at a time; INSERT … ON CONFLICT checks each row
 * against the primary key first): Postgres spends about a quarter less per record. A batch of
 * which any record is stored already fails the COPY on the primary key, as a constraint error,
 * and is then inserted as if the COPY had not been tried; any other error is the caller's.
 */
export async function insertBatch(sql: Sql, logs: readonly LogRow[], metrics: readonly MetricRow[]): Promise<InsertResult> {
  if (logs.length + metrics.length >= COPY_MIN_RECORDS) {
    try {
      return await copyBatch(sql, logs, metrics);
    } catch (error) {
      if (!isConstraintError(error)) throw error;
    }
  }
  return insertNew(sql, logs, metrics);
}

/** SQLSTATE class 23: unique, check, not-null, foreign-key violations. */
function isConstraintError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('23');
}

async function copyBatch(sql: Sql, logs: readonly LogRow[], metrics: readonly MetricRow[]): Promise<InsertResult> {
  const late = lateMinutes([logs, metrics]);
  await sql.begin(async function copyInTransaction(tx: TransactionSql) {
    if (logs.length)
      await copyIn(
        tx`COPY logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", retention_class) FROM STDIN`,
        logs.map(logLine).join(''),
      );
    if (metrics.length)
      await copyIn(
        tx`COPY logging.performance_logs (id, service, operation, execution_time_ms, memory_usage_mb, cpu_usage_percent, correlation_id, data, "timestamp") FROM STDIN`,
        metrics.map(metricLine).join(''),
      );
    if (late.length)
      await tx`INSERT INTO logging.late_minutes (minute) SELECT value::timestamptz FROM json_array_elements_text(${JSON.stringify(late)}::text::json)`;
  });
  return { logsInserted: logs.length, metricsInserted: metrics.length };
}

function logLine(r: LogRow): string {
  return `${r.id}\t${copyField(r.service)}\t${copyField(r.level)}\t${copyField(r.message)}\t${copyField(r.data === null ? null : JSON.stringify(r.data))}\t${copyField(r.correlation_id)}\t${copyField(r.event_type)}\t${r.timestamp}\t${retentionClass(r.level, r.event_type)}\n`;
}

function metricLine(r: MetricRow): string {
  return `${r.id}\t${copyField(r.service)}\t${copyField(r.operation)}\t${r.execution_time_ms}\t${copyField(r.memory_usage_mb)}\t${copyField(r.cpu_usage_percent)}\t${copyField(r.correlation_id)}\t${copyField(r.data === null ? null : JSON.stringify(r.data))}\t${r.timestamp}\n`;
}

/**
 * Writes a batch in one statement (one round trip, one transaction), one bulk INSERT per table
 * that has records, skipping the records stored already. Each table's records go as one JSON parameter expanded by json_to_recordset,
 * so a batch of any size has at most two parameters. A record already stored (same id and
 * timestamp, hence the same retention class) is skipped. A table without records is left out of
 * the statement: planning an INSERT into a partitioned table costs even for zero rows, on every
 * new connection.
 */
async function insertNew(sql: Sql, logs: readonly LogRow[], metrics: readonly MetricRow[]): Promise<InsertResult> {
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
