import { createSql, releaseSql } from '../shared/db/client';
import { ensurePartitions } from '../shared/db/partitions';
import { createServiceLogging } from '../shared/db/service-logging';
import type { Config } from '../shared/env';

const DAY_MS = 86_400_000;

/** The daily job (cron in wrangler.toml): premakes the coming days' partitions. */
export async function runScheduled(config: Config, now = new Date()): Promise<{ partitionsCreated: number }> {
  const sql = createSql(config.HYPERDRIVE.connectionString);
  const logging = createServiceLogging(sql);
  const logger = logging.getServiceLogger('log_ingest').withEventType('maintenance');
  try {
    const partitionsCreated = await ensurePartitions(
      sql,
      new Date(now.getTime() - DAY_MS),
      new Date(now.getTime() + config.PARTITION_PREMAKE_DAYS * DAY_MS),
    );
    logger.info('partitions ensured', { partitions_created: partitionsCreated, premake_days: config.PARTITION_PREMAKE_DAYS });
    return { partitionsCreated };
  } catch (error) {
    logger.exception(error, 'partition upkeep failed');
    throw error;
  } finally {
    await logging.flush({ timeoutMs: 5_000 });
    await releaseSql(sql);
  }
}
