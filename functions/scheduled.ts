import { createSql, releaseSql } from '../shared/db/client';
import { retentionPolicy, runRetentionJob, type RetentionSummary } from '../shared/retention/job';
import type { Config } from '../shared/env';

/**
 * The daily job (cron in wrangler.toml): retention by whole day partitions, partition upkeep, and
 * its summary (or its failure) logged into system_logs (event_type 'cleanup') through the logging
 * library.
 */
export async function runScheduled(config: Config, now = new Date()): Promise<RetentionSummary> {
  const sql = createSql(config.HYPERDRIVE.connectionString);
  try {
    return await runRetentionJob(sql, retentionPolicy(config), { now, flushTimeoutMs: 5_000 });
  } finally {
    await releaseSql(sql);
  }
}
