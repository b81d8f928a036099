/**
 * The seed's two-tier retention, by whole partitions: a day stays active for `archiveAfterDays`;
 * then the partition of its rows that a longer-lived class keeps (errors, trading) moves to the
 * archive table (DETACH and ATTACH), and the rest of the day is purged; an archived day is purged
 * once the longest retention of its table has passed. A purged partition leaves its table at once;
 * its files are freed by the next run, beside that run's own work. The same job premakes the coming
 * days and sweeps rows out of the default partitions.
 *
 * Idempotent and resumable: every change is in a transaction that renews the job's lease, each
 * day's move is all or nothing, a second run finds nothing left to do, and a run after missed days
 * catches up.
 */
import type { Sql } from '../db/client';
import { createServiceLogging } from '../ingest/service-logging';
import type { RetentionConfig } from '../env';
import type { Logger } from '../logging';
import { isoDay } from './partitions';
import {
  ACTIVE_TABLES,
  ARCHIVE_OF,
  CLASS_SQL,
  acquireLease,
  countArchivedDay,
  countDay,
  defaultPartitionDays,
  ensureDays,
  freePurged,
  LeaseLostError,
  partitionDays,
  purgedPartitions,
  releaseLease,
  retire,
  type ActiveTable,
  type Lease,
  type RetirePlan,
  type Retired,
  type DayCounts,
} from './sql';

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

/** The policy the settings give (shared/env.ts: the same variables for the Worker and the CLI). */
export function retentionPolicy(config: RetentionConfig): RetentionPolicy {
  return {
    archiveAfterDays: config.RETENTION_ARCHIVE_AFTER_DAYS,
    systemLogsDays: config.RETENTION_SYSTEM_LOGS_DAYS,
    performanceLogsDays: config.RETENTION_PERFORMANCE_LOGS_DAYS,
    errorLogsDays: config.RETENTION_ERROR_LOGS_DAYS,
    tradingLogsDays: config.RETENTION_TRADING_LOGS_DAYS,
    premakeDays: config.PARTITION_PREMAKE_DAYS,
  };
}

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
  /** Partitions taken out of the tables, their rows purged; their files are freed by the next run (bytesFreed). */
  partitionsDropped: number;
  /**
   * Disk space handed back, in bytes: the files of the partitions earlier runs purged (a purged
   * partition leaves its table at once; its files are freed by the next run, beside that run's
   * own work).
   */
  bytesFreed: number;
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
  /** How often a step that hit a lock timeout is tried again (after 0.25, 0.5, 1, then every 2 s). Default 5: some 7 s of tries. */
  lockRetries?: number;
}

/**
 * Logs a run's summary (the seed's "log cleanup results"), the actions left out: ERROR when the
 * run had errors, so they are seen on the console too.
 */
function logSummary(logger: Logger, summary: RetentionSummary): void {
  const { actions: _actions, ...fields } = summary;
  if (summary.errors.length) logger.error('retention run finished with errors', fields);
  else logger.info(summary.skipped ? 'retention run skipped' : 'retention run finished', fields);
}

/**
 * One run as the scheduled trigger and `npm run cleanup` start it: the run, then its summary
 * logged into system_logs (event_type 'cleanup'; a dry run changes nothing and logs nothing), or,
 * when the run throws (the database unreachable, the lease lost), `retention run failed` with the
 * error, and the error rethrown. Logged at ERROR, these also reach the console, so they are seen
 * when the database is what failed. Resolves once the records are written or `flushTimeoutMs` has
 * passed.
 *
 * @example
 * const summary = await runRetentionJob(sql, retentionPolicy(config), { flushTimeoutMs: 5_000 });
 */
export async function runRetentionJob(
  sql: Sql,
  policy: RetentionPolicy,
  options: RetentionOptions & { flushTimeoutMs: number },
): Promise<RetentionSummary> {
  const logging = createServiceLogging(sql);
  const logger = logging.getServiceLogger('log_ingest').withEventType('cleanup');
  try {
    const summary = await runRetention(sql, policy, options);
    if (!summary.dryRun) logSummary(logger, summary);
    return summary;
  } catch (error) {
    logger.exception(error, 'retention run failed');
    throw error;
  } finally {
    await logging.shutdown({ timeoutMs: options.flushTimeoutMs });
  }
}

const DAY_MS = 86_400_000;
const PREMAKE_BATCH_DAYS = 7;
/** How long, from the run's start, the freeing holds its commit for the first count: the counts' lock timeout (1 s). */
const COUNT_WAIT_MS = 1000;

/** Resolves when `promise` does, or after `ms`, whichever comes first. */
function within(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The longest any row of the table is kept: when its archived days are dropped. */
function longestRetention(table: ActiveTable, p: RetentionPolicy): number {
  return table === 'performance_logs' ? p.performanceLogsDays : Math.max(p.systemLogsDays, p.errorLogsDays, p.tradingLogsDays);
}

/** What happens to an active day that reached archive age, by its age and the policy. */
function planDay(table: ActiveTable, day: string, nowMs: number, p: RetentionPolicy, archiveDays: string[]): RetirePlan {
  const keptBy = (days: number) => day >= isoDay(nowMs - days * DAY_MS);
  const archiveHasDay = archiveDays.includes(day);
  if (table === 'performance_logs') return { table, day, keep: keptBy(p.performanceLogsDays) ? 'all' : 'none', archiveHasDay };
  if (keptBy(p.systemLogsDays)) return { table, day, keep: 'all', archiveHasDay };
  const error = keptBy(p.errorLogsDays);
  const trading = keptBy(p.tradingLogsDays);
  if (!error && !trading) return { table, day, keep: 'none', archiveHasDay };
  return { table, day, keep: 'extended', archiveHasDay, ...(error && trading ? {} : { keepOnly: error ? CLASS_SQL.error : CLASS_SQL.trading }) };
}

function keptRows(plan: RetirePlan, counts: DayCounts): number {
  if (plan.keep === 'all') return counts.total;
  if (plan.keep === 'none') return 0;
  return plan.keepOnly === CLASS_SQL.error ? counts.error : plan.keepOnly === CLASS_SQL.trading ? counts.trading : counts.extended;
}

function describe(plan: RetirePlan, counts: DayCounts): string {
  const kept = keptRows(plan, counts);
  return plan.keep === 'none' ? `purge ${plan.table} ${plan.day} (${counts.total} rows, past every retention)`
    : `archive ${kept} of ${counts.total} ${plan.table} rows of ${plan.day}${plan.keep === 'extended' ? ' (its extended partition)' : ''}, purge the rest`;
}

const isLockTimeout = (error: unknown) => (error as { code?: string }).code === '55P03';

export async function runRetention(sql: Sql, policy: RetentionPolicy = DEFAULT_POLICY, options: RetentionOptions = {}): Promise<RetentionSummary> {
  const started = Date.now();
  const nowMs = (options.now ?? new Date()).getTime();
  const today = isoDay(nowMs);
  const dryRun = options.dryRun ?? false;
  const lease: Lease = { name: 'retention', holder: options.holder ?? crypto.randomUUID(), ttlSeconds: options.leaseSeconds ?? 900 };
  const progress = options.progress ?? (() => {});
  const summary: RetentionSummary = {
    today, dryRun, partitionsCreated: 0, defaultDaysSwept: [], daysArchived: [],
    rowsKept: { error: 0, trading: 0, performance: 0, total: 0 }, rowsPurged: { system_logs: 0, performance_logs: 0 },
    archivedDaysDropped: [], partitionsDropped: 0, bytesFreed: 0, durationMs: 0, errors: [], actions: [],
  };
  const act = (line: string) => {
    summary.actions.push(line);
    progress(`${dryRun ? '[dry run] would ' : ''}${line}`);
  };
  /** Runs one step (skipped in a dry run); a lock timeout is retried, other errors are recorded and the run goes on. */
  const step = async (name: string, work: () => Promise<void>): Promise<boolean> => {
    await options.onStep?.(name);
    if (dryRun) return false;
    for (let attempt = 0; ; attempt++) {
      try {
        await work();
        return true;
      } catch (error) {
        if (isLockTimeout(error) && attempt < (options.lockRetries ?? 5)) {
          await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 2_000)));
          continue;
        }
        if (error instanceof LeaseLostError || options.onStep) throw error; // under test, a crash is a crash
        summary.errors.push(`${name}: ${(error as Error).message}`);
        progress(`error: ${name}: ${(error as Error).message}`);
        return false;
      }
    }
  };

  if (!dryRun && !(await acquireLease(sql, lease))) {
    summary.skipped = 'another retention run holds the lease';
    progress(summary.skipped);
    summary.durationMs = Date.now() - started;
    return summary;
  }
  let freeing: Promise<void> = Promise.resolve();
  let counted = () => {};
  const countedOrTimedOut = within(new Promise<void>((resolve) => (counted = resolve)), COUNT_WAIT_MS);
  try {
    // 0. The files of the partitions earlier runs purged are dropped in transactions of their own, on
    // a second connection, while this run moves and purges its own days. The lease is released
    // once both are done. The drops commit once this run has counted its first day's rows (or
    // after the lock timeout, if counting is held up): handing files back keeps the disk busy,
    // and counts that read a cold day meanwhile took 25-90 ms instead of 5-25.
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
    freeing = dryRun
      ? purgedPartitions(sql).then((purged) => {
        if (purged.length) act(`free ${purged.length} partitions purged by an earlier run (${mb(purged.reduce((sum, p) => sum + p.bytes, 0))})`);
      })
      : step('free purged partitions', async () => {
        await freePurged(sql, lease, {
          beforeCommit: () => countedOrTimedOut,
          onFreed: (freed) => {
            summary.bytesFreed += freed.bytes;
            act(`freed ${freed.tables.length} partitions purged by an earlier run (${mb(freed.bytes)})`);
          },
        });
      }).then(() => {});
    freeing.catch(() => {}); // awaited below, or settled in `finally`

    const [days, waiting] = await Promise.all([partitionDays(sql), defaultPartitionDays(sql)]);

    // 1. Rows that landed in a default partition go to their day (made if needed).
    for (const { table, day } of waiting) act(`move ${table} rows of ${day} out of the default partition`);
    if (await step('sweep default partitions', async () => void (summary.partitionsCreated += await ensureDays(sql, waiting, lease)))) {
      summary.defaultDaysSwept = waiting.map(({ table, day }) => `${table}:${day}`);
      for (const { table, day } of waiting) if (!days[table].includes(day)) days[table].push(day);
      for (const table of ACTIVE_TABLES) days[table].sort();
    }

    // 2. Premake: at least `premakeDays` days ahead, topped up a week at a time (a premade day
    // costs tens of milliseconds of catalog work; batching keeps six runs in seven free of it).
    const ahead = (days: number) => Array.from({ length: days + 2 }, (_, i) => isoDay(nowMs + (i - 1) * DAY_MS));
    const short = ACTIVE_TABLES.some((table) => ahead(policy.premakeDays).some((day) => !days[table].includes(day)));
    const missing = short
      ? ACTIVE_TABLES.flatMap((table) => ahead(policy.premakeDays + PREMAKE_BATCH_DAYS - 1).filter((day) => !days[table].includes(day)).map((day) => ({ table, day })))
      : [];
    if (missing.length) {
      act(`create partitions ${missing.map(({ table, day }) => `${table} ${day}`).join(', ')}`);
      await step('premake', async () => void (summary.partitionsCreated += await ensureDays(sql, missing, lease)));
    }

    // 3. Archived days past their table's longest retention. They are dropped in the transaction of
    // the last day moved below, or on their own if no day moves.
    const expiring = ACTIVE_TABLES.flatMap((table) => {
      const expireBefore = isoDay(nowMs - longestRetention(table, policy) * DAY_MS);
      return days[ARCHIVE_OF[table]].filter((d) => d < expireBefore).map((day) => ({ table: ARCHIVE_OF[table], day }));
    });
    const record = (retired: Retired) => {
      for (const e of retired.expired) {
        act(`purge ${e.table} ${e.day} (${e.rows} rows)`);
        summary.archivedDaysDropped.push(`${e.table}:${e.day}`);
        summary.partitionsDropped++;
        summary.rowsPurged[e.table === 'archived_system_logs' ? 'system_logs' : 'performance_logs'] += e.rows;
      }
      for (const { plan, counts } of retired.days) {
        const kept = keptRows(plan, counts);
        act(describe(plan, counts));
        if (plan.keep !== 'all' || plan.archiveHasDay) summary.partitionsDropped++; // a whole day moved is not dropped
        summary.rowsPurged[plan.table] += counts.total - kept;
        summary.rowsKept.total += kept;
        if (plan.keep === 'none') continue;
        summary.daysArchived.push(`${plan.table}:${plan.day}`);
        if (plan.table === 'performance_logs') summary.rowsKept.performance += kept;
        else {
          if (plan.keepOnly !== CLASS_SQL.trading) summary.rowsKept.error += counts.error;
          if (plan.keepOnly !== CLASS_SQL.error) summary.rowsKept.trading += counts.trading;
        }
      }
    };

    // 4. Active days past archiveAfterDays, oldest first, one transaction per day.
    const archiveBefore = isoDay(nowMs - policy.archiveAfterDays * DAY_MS);
    const due = [...new Set(ACTIVE_TABLES.flatMap((t) => days[t].filter((d) => d < archiveBefore)))].sort();
    const batches = due.map((day, i) => ({
      name: `retire ${day}`,
      plans: ACTIVE_TABLES.filter((t) => days[t].includes(day)).map((t) => planDay(t, day, nowMs, policy, days[ARCHIVE_OF[t]])),
      expired: i === due.length - 1 ? expiring : [],
    }));
    if (due.length === 0 && expiring.length) batches.push({ name: 'expire archived days', plans: [], expired: expiring });
    for (const [i, batch] of batches.entries()) {
      if (dryRun) {
        await options.onStep?.(batch.name);
        const [counts, rows] = await Promise.all([
          Promise.all(batch.plans.map((plan) => countDay(sql, plan.table, plan.day))),
          Promise.all(batch.expired.map((e) => countArchivedDay(sql, e.table, e.day))),
        ]);
        for (const [j, e] of batch.expired.entries()) act(`purge ${e.table} ${e.day} (${rows[j]} rows)`);
        for (const [j, plan] of batch.plans.entries()) act(describe(plan, counts[j]!));
        continue;
      }
      let retired: Retired | undefined;
      if (await step(batch.name, async () => void (retired = await retire(sql, batch.plans, batch.expired, { lease, onCounted: counted })))) {
        record(retired!);
      } else if (i === batches.length - 1 && batch.plans.length && batch.expired.length) {
        // A day that keeps failing must not hold the expired archive days hostage.
        if (await step('expire archived days', async () => void (retired = await retire(sql, [], batch.expired, { lease })))) record(retired!);
      }
    }
    counted(); // no day was due, or none could be counted
    await freeing;
  } finally {
    counted();
    await Promise.allSettled([freeing]);
    if (!dryRun) await releaseLease(sql, lease).catch(() => {}); // an expired lease frees itself
    summary.durationMs = Date.now() - started;
  }
  return summary;
}
