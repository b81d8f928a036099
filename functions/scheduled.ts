import { createSql, releaseSql } from '../shared/db/client';
import { ensurePartitions } from '../shared/db/partitions';
import type { Config } from '../shared/env';

const DAY_MS = 86_400_000;

/** The daily job (cron in wrangler.toml): premakes the coming days' partitions. */
export async function runScheduled(config: Config, now = new Date()): Promise<{ partitionsCreated: number }> {
  const sql = createSql(config.HYPERDRIVE.connectionString);
  try {
    const partitionsCreated = await ensurePartitions(
      sql,
      new Date(now.getTime() - DAY_MS),
      new Date(now.getTime() + config.PARTITION_PREMAKE_DAYS * DAY_MS),
    );
    console.log(JSON.stringify({ level: 'INFO', event: 'partitions_ensured', partitionsCreated }));
    return { partitionsCreated };
  } finally {
    await releaseSql(sql);
  }
}
