import type { Sql } from '../db/client';
import { DAY_MS, isoDay } from '../time';
import { ACTIVE_TABLES, ensureDays } from './sql';

/**
 * Premakes the day partitions of both active tables from `fromDay` to `toDay` (UTC, inclusive),
 * moving rows of those days out of the default partitions: the retention job's premake, for
 * callers outside it (`npm start`). Short lock timeout: under contention it fails and the next
 * run does it, instead of queueing ingest behind it.
 */
export async function ensurePartitions(sql: Sql, fromDay: Date, toDay: Date): Promise<number> {
  const days: string[] = [];
  for (let t = Date.parse(isoDay(fromDay)); t <= toDay.getTime(); t += DAY_MS) days.push(isoDay(t));
  return ensureDays(
    sql,
    ACTIVE_TABLES.flatMap((table) => days.map((day) => ({ table, day }))),
  );
}
