/** Data for the benchmarks that need a log table full of days. */
import type { Sql } from '../../shared/db/client';

/**
 * Loads `rows` system logs spread evenly over the `days` days before now (or before `endDaysAgo`
 * days ago), their partitions made:
 * six services, 10% ERROR/CRITICAL, 5% event_type trading, structured data. Then VACUUM ANALYZE,
 * as autovacuum leaves days that stopped receiving writes long ago.
 */
export async function loadSystemLogs(sql: Sql, rows: number, days: number, endDaysAgo = 0): Promise<void> {
  await sql.unsafe(
    `SELECT logging.ensure_partitions((now() AT TIME ZONE 'UTC')::date - ${days + endDaysAgo}, (now() AT TIME ZONE 'UTC')::date + 1)`,
  );
  const chunk = 1_000_000;
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    await sql.unsafe(`
      INSERT INTO logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", retention_class)
      SELECT r.*, logging.retention_class(r.level, r.event_type) FROM (SELECT gen_random_uuid(),
             (ARRAY['execution','risk_management','strategy_engine','data_ingestion','analytics','notification'])[1 + g % 6],
             CASE WHEN g % 20 = 0 THEN 'ERROR' WHEN g % 20 = 1 THEN 'CRITICAL' WHEN g % 5 = 2 THEN 'DEBUG' ELSE 'INFO' END,
             'Order ' || g || ' routed',
             jsonb_build_object('order_id', 'ORD' || g, 'symbol', 'AAPL', 'quantity', g % 500),
             'trade-' || (g / 10),
             CASE WHEN g % 20 = 3 THEN 'trading' ELSE 'system' END,
             now() - ${endDaysAgo} * interval '1 day' - ((g::float8 / ${rows}) * ${days} * interval '1 day')
      FROM generate_series(${start}, ${start + n - 1}) AS g) AS r(id, service, level, message, data, correlation_id, event_type, "timestamp")`);
  }
  await sql`VACUUM (ANALYZE) logging.system_logs`;
}

/** Loads `rows` performance metrics like loadSystemLogs: six services, four operations each, long-tailed latencies. */
export async function loadMetrics(sql: Sql, rows: number, days: number, endDaysAgo = 0): Promise<void> {
  const chunk = 1_000_000;
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    await sql.unsafe(`
      INSERT INTO logging.performance_logs (id, service, operation, execution_time_ms, correlation_id, "timestamp")
      SELECT gen_random_uuid(),
             (ARRAY['execution','risk_management','strategy_engine','data_ingestion','analytics','notification'])[1 + g % 6],
             (ARRAY['create_order','check_limits','calculate_var','route'])[1 + (g / 6) % 4],
             round((5 + 200 * power(random(), 4))::numeric, 3), 'trade-' || (g / 10),
             now() - ${endDaysAgo} * interval '1 day' - ((g::float8 / ${rows}) * ${days} * interval '1 day')
      FROM generate_series(${start}, ${start + n - 1}) AS g`);
  }
  await sql`VACUUM (ANALYZE) logging.performance_logs`;
}
