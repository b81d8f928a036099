import { createSql, releaseSql } from '../shared/db/client';
import { createServiceLogging } from '../shared/db/service-logging';
import { logSummary, runRetention, type RetentionSummary } from '../shared/retention';
import type { Config } from '../shared/env';

/**
 * The daily job (cron in wrangler.toml): retention by whole day partitions, partition upkeep, and
 * its summary logged into system_logs (event_type 'cleanup') through the logging library.
 */
export async function runScheduled(config: Config, now = new Date()): Promise<RetentionSummary> {
  const sql = createSql(config.HYPERDRIVE.connectionString);
  const logging = createServiceLogging(sql);
  const logger = logging.getServiceLogger('log_ingest').withEventType('cleanup');
  try {
    const summary = await runRetention(sql, retentionPolicy(config), { now });
    logSummary(logger, summary);
    return summary;
  } catch (error) {
    logger.exception(error, 'retention run failed');
    throw error;
  } finally {
    await logging.flush({ timeoutMs: 5_000 });
    await releaseSql(sql);
  }
}

export function retentionPolicy(config: Config) {
  return {
    archiveAfterDays: config.RETENTION_ARCHIVE_AFTER_DAYS,
    systemLogsDays: config.RETENTION_SYSTEM_LOGS_DAYS,
    performanceLogsDays: config.RETENTION_PERFORMANCE_LOGS_DAYS,
    errorLogsDays: config.RETENTION_ERROR_LOGS_DAYS,
    tradingLogsDays: config.RETENTION_TRADING_LOGS_DAYS,
    premakeDays: config.PARTITION_PREMAKE_DAYS,
  };
}
