/**
 * The health of the logging pipeline itself (the seed's "system health indicators"), read from
 * the database: what /metrics exposes and pipeline rules alert on.
 */
import type { Sql } from '../db/client';
import { SERVICE_NAME } from '../ingest';
import type { PipelineMetric } from './rules';

export type PipelineMetrics = Record<PipelineMetric, number | null>;

/** The metrics as of `at`: per-minute counts are those of the last complete minute before it. */
export async function pipelineMetrics(sql: Sql, at: Date): Promise<PipelineMetrics> {
  const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000 - 60_000);
  const [row] = await sql<PipelineMetrics[]>`
    SELECT
      (SELECT coalesce(sum(accepted), 0)::float8 FROM logging.ingest_counters WHERE minute = ${minute}) AS records_accepted_per_minute,
      (SELECT coalesce(sum(rejected), 0)::float8 FROM logging.ingest_counters WHERE minute = ${minute}) AS records_rejected_per_minute,
      (SELECT coalesce(sum(queued_batches), 0)::float8 FROM logging.ingest_counters WHERE minute = ${minute}) AS batches_queued_per_minute,
      (SELECT count(*)::float8 FROM logging.dead_letters WHERE replayed_at IS NULL) AS dead_letters_waiting,
      ((SELECT count(*) FROM logging.system_logs_default) + (SELECT count(*) FROM logging.performance_logs_default))::float8 AS default_partition_rows,
      (SELECT extract(epoch FROM ${at}::timestamptz - max("timestamp"))::float8 FROM logging.system_logs
        WHERE service = ${SERVICE_NAME} AND event_type = 'cleanup' AND "timestamp" > ${at}::timestamptz - interval '8 days') AS retention_last_run_age_seconds,
      (SELECT extract(epoch FROM ${at}::timestamptz - max(minute))::float8 FROM logging.alert_evaluations WHERE status = 'ok') AS evaluator_lag_seconds`;
  return row!;
}

const HELP: Record<PipelineMetric, [type: 'gauge', help: string]> = {
  records_accepted_per_minute: ['gauge', 'Records (logs and metrics) accepted in the last complete minute'],
  records_rejected_per_minute: ['gauge', 'Records rejected by validation in the last complete minute'],
  batches_queued_per_minute: ['gauge', 'Messages queued to QStash because the database could not take a batch, last complete minute'],
  dead_letters_waiting: ['gauge', 'Batches in logging.dead_letters not yet replayed'],
  default_partition_rows: ['gauge', 'Rows waiting in the default partitions (a day partition is missing)'],
  retention_last_run_age_seconds: ['gauge', 'Seconds since the retention job last logged a run'],
  evaluator_lag_seconds: ['gauge', 'Seconds between now and the last minute the alert evaluator evaluated'],
};

/** The Prometheus text exposition format (version 0.0.4); a metric without a value is left out. */
export function prometheusText(metrics: PipelineMetrics, extra: Record<string, number> = {}): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(metrics) as [PipelineMetric, number | null][]) {
    if (value === null) continue;
    const [type, help] = HELP[name];
    lines.push(`# HELP log_ingest_${name} ${help}`, `# TYPE log_ingest_${name} ${type}`, `log_ingest_${name} ${value}`);
  }
  for (const [name, value] of Object.entries(extra)) lines.push(`# TYPE log_ingest_${name} gauge`, `log_ingest_${name} ${value}`);
  return `${lines.join('\n')}\n`;
}
