/**
 * The seed's two-tier retention, by whole day partitions: a day stays active for
 * `archiveAfterDays`; then the rows that a longer-lived class keeps (errors, trading) move to the
 * archive tables and the day is dropped; an archived day is dropped once the longest retention of
 * its table has passed. Also premakes partitions and sweeps rows out of the default partitions.
 * Idempotent and resumable: each day's move is one transaction, a lease keeps runs from
 * overlapping, and a run after missed days catches up.
 */
import type { Sql } from './db/client';
import {
  acquireLease,
  archiveDay,
  ARCHIVE_OF,
  countDay,
  defaultPartitionDays,
  dropDay,
  ensureDay,
  listDays,
  releaseLease,
  type ActiveTable,
} from './db/retention';

/** Defaults: the seed's settings. */
export interface RetentionPolicy {
  archiveAfterDays: number;
  systemLogsDays: number;
  performanceLogsDays: number;
  errorLogsDays: number;
  tradingLogsDays: number;
  premakeDays: number;
}

export const DEFAULT_POLICY: RetentionPolicy = {
  archiveAfterDays: 30,
  systemLogsDays: 30,
  performanceLogsDays: 30,
  errorLogsDays: 90,
  tradingLogsDays: 90,
  premakeDays: 14,
};

const CLASSES = {
  error: `level IN ('ERROR', 'CRITICAL')`,
  trading: `event_type = 'trading'`,
};

export interface RetentionSummary {
  today: string;
  dryRun: boolean;
  /** Set when another run holds the lease: this one did nothing. */
  skipped?: string;
  partitionsCreated: number;
  defaultDaysSwept: string[];
  daysArchived: string[];
  rowsKept: { error: number; trading: number; performance: number; total: number };
  rowsPurged: { system_logs: number; performance_logs: number };
  archivedDaysDropped: string[];
  partitionsDropped: number;
  durationMs: number;
  errors: string[];
  /** What was (or, with dryRun, would be) done, in order. */
  actions: string[];
}

export interface RetentionOptions {
  now?: Date;
  dryRun?: boolean;
  /** Identifies this run's lease. */
  holder?: string;
  leaseSeconds?: number;
  progress?: (line: string) => void;
  /** Test hook: called before each step; throwing there simulates a crash. */
  onStep?: (step: string) => Promise<void> | void;
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function keepPredicate(table: ActiveTable, p: RetentionPolicy): string | null {
  if (table === 'performance_logs') return p.performanceLogsDays > p.archiveAfterDays ? 'true' : null;
  if (p.systemLogsDays > p.archiveAfterDays) return 'true';
  const parts = [p.errorLogsDays > p.archiveAfterDays ? CLASSES.error : null, p.tradingLogsDays > p.archiveAfterDays ? CLASSES.trading : null].filter(Boolean);
  return parts.length ? parts.map((x) => `(${x})`).join(' OR ') : null;
}

function maxRetention(table: ActiveTable, p: RetentionPolicy): number {
  return table === 'performance_logs' ? p.performanceLogsDays : Math.max(p.systemLogsDays, p.errorLogsDays, p.tradingLogsDays);
}

export async function runRetention(sql: Sql, policy: RetentionPolicy = DEFAULT_POLICY, options: RetentionOptions = {}): Promise<RetentionSummary> {
  const started = Date.now();
  const nowMs = (options.now ?? new Date()).getTime();
  const today = isoDay(nowMs);
  const dryRun = options.dryRun ?? false;
  const holder = options.holder ?? crypto.randomUUID();
  const leaseSeconds = options.leaseSeconds ?? 900;
  const progress = options.progress ?? (() => {});
  const summary: RetentionSummary = {
    today, dryRun, partitionsCreated: 0, defaultDaysSwept: [], daysArchived: [],
    rowsKept: { error: 0, trading: 0, performance: 0, total: 0 }, rowsPurged: { system_logs: 0, performance_logs: 0 },
    archivedDaysDropped: [], partitionsDropped: 0, durationMs: 0, errors: [], actions: [],
  };
  const act = (line: string) => {
    summary.actions.push(line);
    progress(`${dryRun ? '[dry run] would ' : ''}${line}`);
  };
  const step = async (name: string) => {
    await options.onStep?.(name);
    if (!dryRun && !(await acquireLease(sql, 'retention', holder, leaseSeconds))) throw new Error('lease lost to another run');
  };

  if (!dryRun && !(await acquireLease(sql, 'retention', holder, leaseSeconds))) {
    summary.skipped = 'another retention run holds the lease';
    progress(summary.skipped);
    summary.durationMs = Date.now() - started;
    return summary;
  }
  try {
    const tables: ActiveTable[] = ['system_logs', 'performance_logs'];

    // 1. Premake the coming days.
    for (const table of tables) {
      const existing = new Set(await listDays(sql, table));
      for (let d = -1; d <= policy.premakeDays; d++) {
        const day = isoDay(nowMs + d * DAY_MS);
        if (existing.has(day)) continue;
        await step(`premake ${table} ${day}`);
        act(`create partition ${table} ${day}`);
        if (!dryRun && (await ensureDay(sql, table, day))) summary.partitionsCreated++;
      }
    }

    // 2. Rows that landed in a default partition go to their day (made if needed).
    for (const table of tables) {
      for (const day of await defaultPartitionDays(sql, table)) {
        await step(`sweep ${table} default ${day}`);
        act(`move ${table} rows of ${day} out of the default partition`);
        summary.defaultDaysSwept.push(`${table}:${day}`);
        if (!dryRun && (await ensureDay(sql, table, day))) summary.partitionsCreated++;
      }
    }

    // 3. Active days past archiveAfterDays: archive what a class keeps, drop the day.
    const archiveBefore = isoDay(nowMs - policy.archiveAfterDays * DAY_MS);
    for (const table of tables) {
      const keep = keepPredicate(table, policy);
      const expireBefore = isoDay(nowMs - maxRetention(table, policy) * DAY_MS);
      for (const day of await listDays(sql, table)) {
        if (day >= archiveBefore) continue;
        try {
          await step(`archive ${table} ${day}`);
          const toKeep = keep && day >= expireBefore ? keep : null;
          const counts = await countDay(sql, table, day, { ...(table === 'system_logs' ? CLASSES : {}), ...(toKeep ? { kept: toKeep } : {}) });
          act(toKeep ? `archive ${counts.kept} of ${counts.total} ${table} rows of ${day}, drop the day` : `drop ${table} ${day} (${counts.total} rows, past every retention)`);
          if (dryRun) continue;
          const result = toKeep ? await archiveDay(sql, table, day, toKeep, { total: counts.total! }) : { total: await dropDay(sql, table, day, counts.total!), kept: 0 };
          summary.partitionsDropped++;
          summary.rowsPurged[table] += result.total - result.kept;
          summary.rowsKept.total += result.kept;
          if (toKeep) {
            summary.daysArchived.push(`${table}:${day}`);
            if (table === 'system_logs') {
              summary.rowsKept.error += counts.error ?? 0;
              summary.rowsKept.trading += counts.trading ?? 0;
            } else summary.rowsKept.performance += result.kept;
          }
        } catch (error) {
          if ((error as Error).message === 'lease lost to another run') throw error;
          summary.errors.push(`${table} ${day}: ${(error as Error).message}`);
          progress(`error: ${table} ${day}: ${(error as Error).message}`);
          if (options.onStep) throw error; // under test, a crash is a crash
        }
      }
    }

    // 4. Archived days past their table's longest retention.
    for (const table of tables) {
      const archive = ARCHIVE_OF[table];
      const expireBefore = isoDay(nowMs - maxRetention(table, policy) * DAY_MS);
      for (const day of await listDays(sql, archive)) {
        if (day >= expireBefore) continue;
        await step(`expire ${archive} ${day}`);
        act(`drop ${archive} ${day}`);
        if (dryRun) continue;
        const rows = await dropDay(sql, archive, day);
        summary.partitionsDropped++;
        summary.archivedDaysDropped.push(`${archive}:${day}`);
        summary.rowsPurged[table] += rows;
      }
    }
  } finally {
    if (!dryRun) await releaseLease(sql, 'retention', holder).catch(() => {}); // an expired lease frees itself
    summary.durationMs = Date.now() - started;
  }
  return summary;
}
