import type { Sql } from './client';

/**
 * Premakes the day partitions of both tables from `fromDay` to `toDay` (UTC, inclusive), moving
 * rows of those days out of the default partitions. Short lock timeout: under contention it fails
 * and the next run does it, instead of queueing ingest behind it.
 */
export async function ensurePartitions(sql: Sql, fromDay: Date, toDay: Date): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`SET LOCAL lock_timeout = '2s'`;
    const [row] = await tx<{ created: number }[]>`
      SELECT logging.ensure_partitions(${isoDay(fromDay)}::date, ${isoDay(toDay)}::date) AS created`;
    return row!.created;
  });
}

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
