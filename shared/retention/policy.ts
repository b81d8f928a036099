/** What the policy does with each day: pure functions of the day, its age and the settings. */
import { RetentionSettingsSchema, type RetentionSettings } from '../env';
import { DAY_MS, isoDay } from '../time';
import { CLASS_SQL, type ActiveTable, type DayCounts, type RetirePlan } from './sql';

export interface RetentionPolicy {
  archiveAfterDays: number;
  systemLogsDays: number;
  performanceLogsDays: number;
  errorLogsDays: number;
  tradingLogsDays: number;
  premakeDays: number;
}

/** The policy the settings give (shared/env.ts: the same variables for the Worker and the CLI). */
export function retentionPolicy(settings: RetentionSettings): RetentionPolicy {
  return {
    archiveAfterDays: settings.RETENTION_ARCHIVE_AFTER_DAYS,
    systemLogsDays: settings.RETENTION_SYSTEM_LOGS_DAYS,
    performanceLogsDays: settings.RETENTION_PERFORMANCE_LOGS_DAYS,
    errorLogsDays: settings.RETENTION_ERROR_LOGS_DAYS,
    tradingLogsDays: settings.RETENTION_TRADING_LOGS_DAYS,
    premakeDays: settings.PARTITION_PREMAKE_DAYS,
  };
}

/** The seed's settings: the schema's defaults. */
export const DEFAULT_POLICY: RetentionPolicy = retentionPolicy(RetentionSettingsSchema.parse({}));

/** The longest any row of the table is kept: when its archived days are dropped. */
export function longestRetention(table: ActiveTable, p: RetentionPolicy): number {
  return table === 'performance_logs' ? p.performanceLogsDays : Math.max(p.systemLogsDays, p.errorLogsDays, p.tradingLogsDays);
}

/** What happens to an active day that reached archive age, by its age and the policy. */
export function planDay(table: ActiveTable, day: string, nowMs: number, p: RetentionPolicy, archiveDays: string[]): RetirePlan {
  const keptBy = (days: number) => day >= isoDay(nowMs - days * DAY_MS);
  const archiveHasDay = archiveDays.includes(day);
  if (table === 'performance_logs') return { table, day, keep: keptBy(p.performanceLogsDays) ? 'all' : 'none', archiveHasDay };
  if (keptBy(p.systemLogsDays)) return { table, day, keep: 'all', archiveHasDay };
  const error = keptBy(p.errorLogsDays);
  const trading = keptBy(p.tradingLogsDays);
  if (!error && !trading) return { table, day, keep: 'none', archiveHasDay };
  return {
    table,
    day,
    keep: 'extended',
    archiveHasDay,
    ...(error && trading ? {} : { keepOnly: error ? CLASS_SQL.error : CLASS_SQL.trading }),
  };
}

/** The rows of a day the plan keeps. */
export function keptRows(plan: RetirePlan, counts: DayCounts): number {
  if (plan.keep === 'all') return counts.total;
  if (plan.keep === 'none') return 0;
  return plan.keepOnly === CLASS_SQL.error ? counts.error : plan.keepOnly === CLASS_SQL.trading ? counts.trading : counts.extended;
}

/** The summary's line for a retired day. */
export function describe(plan: RetirePlan, counts: DayCounts): string {
  const kept = keptRows(plan, counts);
  return plan.keep === 'none'
    ? `purge ${plan.table} ${plan.day} (${counts.total} rows, past every retention)`
    : `archive ${kept} of ${counts.total} ${plan.table} rows of ${plan.day}${plan.keep === 'extended' ? ' (its extended partition)' : ''}, purge the rest`;
}
