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
import { acquireLease, LeaseLostError, releaseLease, type Lease } from '../db/leases';
import { createServiceLogging, SERVICE_NAME } from '../ingest';
import type { Logger } from '../logging';
import { DAY_MS, isoDay } from '../time';
import { DEFAULT_POLICY, describe, keptRows, longestRetention, planDay, type RetentionPolicy } from './policy';
import {
  ACTIVE_TABLES,
  ARCHIVE_OF,
  CLASS_SQL,
  countArchivedDay,
  countDay,
  defaultPartitionDays,
  ensureDays,
  freePurged,
  partitionDays,
  purgedPartitions,
  retire,
  type ActiveTable,
  type LogTable,
  type Retired,
  type RetirePlan,
} from './sql';

export { DEFAULT_POLICY, retentionPolicy, type RetentionPolicy } from './policy';

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
  const logger = logging.getServiceLogger(SERVICE_NAME).withEventType('cleanup');
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

const isLockTimeout = (error: unknown) => (error as { code?: string }).code === '55P03';
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

type Days = Record<LogTable, string[]>;
interface Batch {
  name: string;
  plans: RetirePlan[];
  expired: { table: LogTable; day: string }[];
}

function emptySummary(today: string, dryRun: boolean): RetentionSummary {
  return {
    today,
    dryRun,
    partitionsCreated: 0,
    defaultDaysSwept: [],
    daysArchived: [],
    rowsKept: { error: 0, trading: 0, performance: 0, total: 0 },
    rowsPurged: { system_logs: 0, performance_logs: 0 },
    archivedDaysDropped: [],
    partitionsDropped: 0,
    bytesFreed: 0,
    durationMs: 0,
    errors: [],
    actions: [],
  };
}

/** One run's state and its steps, in the order runRetention takes them. */
class Run {
  readonly nowMs: number;
  readonly dryRun: boolean;
  readonly lease: Lease;
  readonly summary: RetentionSummary;
  private readonly progress: (line: string) => void;
  /** Resolves once the run has counted its first day (`counted`), or COUNT_WAIT_MS after the freeing started. */
  private countedOrTimedOut: Promise<void> = Promise.resolve();
  counted: () => void = () => {};

  constructor(
    private readonly sql: Sql,
    private readonly policy: RetentionPolicy,
    private readonly options: RetentionOptions,
  ) {
    this.nowMs = (options.now ?? new Date()).getTime();
    this.dryRun = options.dryRun ?? false;
    this.lease = { name: 'retention', holder: options.holder ?? crypto.randomUUID(), ttlSeconds: options.leaseSeconds ?? 900 };
    this.progress = options.progress ?? (() => {});
    this.summary = emptySummary(isoDay(this.nowMs), this.dryRun);
  }

  act(line: string): void {
    this.summary.actions.push(line);
    this.progress(`${this.dryRun ? '[dry run] would ' : ''}${line}`);
  }

  skip(reason: string): void {
    this.summary.skipped = reason;
    this.progress(reason);
  }

  /** Runs one step (skipped in a dry run); a lock timeout is retried, other errors are recorded and the run goes on. */
  async step(name: string, work: () => Promise<void>): Promise<boolean> {
    await this.options.onStep?.(name);
    if (this.dryRun) return false;
    for (let attempt = 0; ; attempt++) {
      try {
        await work();
        return true;
      } catch (error) {
        if (isLockTimeout(error) && attempt < (this.options.lockRetries ?? 5)) {
          await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 2_000)));
          continue;
        }
        if (error instanceof LeaseLostError || this.options.onStep) throw error; // under test, a crash is a crash
        this.summary.errors.push(`${name}: ${(error as Error).message}`);
        this.progress(`error: ${name}: ${(error as Error).message}`);
        return false;
      }
    }
  }

  /**
   * The files of the partitions earlier runs purged are dropped in transactions of their own, on a
   * second connection, while this run moves and purges its own days. The drops commit once this
   * run has counted its first day's rows (or after the lock timeout, if counting is held up):
   * handing files back keeps the disk busy, and counts that read a cold day meanwhile took
   * 25-90 ms instead of 5-25.
   */
  async freePurged(): Promise<void> {
    this.countedOrTimedOut = within(new Promise<void>((resolve) => (this.counted = resolve)), COUNT_WAIT_MS);
    if (this.dryRun) {
      const purged = await purgedPartitions(this.sql);
      if (purged.length)
        this.act(`free ${purged.length} partitions purged by an earlier run (${mb(purged.reduce((sum, p) => sum + p.bytes, 0))})`);
      return;
    }
    await this.step('free purged partitions', async () => {
      await freePurged(this.sql, this.lease, {
        beforeCommit: () => this.countedOrTimedOut,
        onFreed: (freed) => {
          this.summary.bytesFreed += freed.bytes;
          this.act(`freed ${freed.tables.length} partitions purged by an earlier run (${mb(freed.bytes)})`);
        },
      });
    });
  }

  /** Rows that landed in a default partition go to their day (made if needed). */
  async sweep(days: Days, waiting: { table: ActiveTable; day: string }[]): Promise<void> {
    for (const { table, day } of waiting) this.act(`move ${table} rows of ${day} out of the default partition`);
    const swept = await this.step('sweep default partitions', async () => {
      this.summary.partitionsCreated += await ensureDays(this.sql, waiting, this.lease);
    });
    if (!swept) return;
    this.summary.defaultDaysSwept = waiting.map(({ table, day }) => `${table}:${day}`);
    for (const { table, day } of waiting) if (!days[table].includes(day)) days[table].push(day);
    for (const table of ACTIVE_TABLES) days[table].sort();
  }

  /**
   * At least `premakeDays` days ahead, topped up a week at a time (a premade day costs tens of
   * milliseconds of catalog work; batching keeps six runs in seven free of it).
   */
  async premake(days: Days): Promise<void> {
    const ahead = (n: number) => Array.from({ length: n + 2 }, (_, i) => isoDay(this.nowMs + (i - 1) * DAY_MS));
    const short = ACTIVE_TABLES.some((table) => ahead(this.policy.premakeDays).some((day) => !days[table].includes(day)));
    if (!short) return;
    const missing = ACTIVE_TABLES.flatMap((table) =>
      ahead(this.policy.premakeDays + PREMAKE_BATCH_DAYS - 1)
        .filter((day) => !days[table].includes(day))
        .map((day) => ({ table, day })),
    );
    if (!missing.length) return;
    this.act(`create partitions ${missing.map(({ table, day }) => `${table} ${day}`).join(', ')}`);
    await this.step('premake', async () => {
      this.summary.partitionsCreated += await ensureDays(this.sql, missing, this.lease);
    });
  }

  /**
   * The retire transactions: active days past archiveAfterDays, oldest first, one transaction per
   * day; archived days past their table's longest retention go with the last day moved, or on
   * their own if no day moves.
   */
  batches(days: Days): Batch[] {
    const expiring = ACTIVE_TABLES.flatMap((table) => {
      const expireBefore = isoDay(this.nowMs - longestRetention(table, this.policy) * DAY_MS);
      return days[ARCHIVE_OF[table]].filter((d) => d < expireBefore).map((day) => ({ table: ARCHIVE_OF[table], day }));
    });
    const archiveBefore = isoDay(this.nowMs - this.policy.archiveAfterDays * DAY_MS);
    const due = [...new Set(ACTIVE_TABLES.flatMap((t) => days[t].filter((d) => d < archiveBefore)))].sort();
    const batches = due.map((day, i) => ({
      name: `retire ${day}`,
      plans: ACTIVE_TABLES.filter((t) => days[t].includes(day)).map((t) => planDay(t, day, this.nowMs, this.policy, days[ARCHIVE_OF[t]])),
      expired: i === due.length - 1 ? expiring : [],
    }));
    if (due.length === 0 && expiring.length) batches.push({ name: 'expire archived days', plans: [], expired: expiring });
    return batches;
  }

  /** What a dry run would retire: the same counts, nothing changed. */
  async preview(batch: Batch): Promise<void> {
    await this.options.onStep?.(batch.name);
    const [counts, rows] = await Promise.all([
      Promise.all(batch.plans.map((plan) => countDay(this.sql, plan.table, plan.day))),
      Promise.all(batch.expired.map((e) => countArchivedDay(this.sql, e.table, e.day))),
    ]);
    for (const [j, e] of batch.expired.entries()) this.act(`purge ${e.table} ${e.day} (${rows[j]} rows)`);
    for (const [j, plan] of batch.plans.entries()) this.act(describe(plan, counts[j]!));
  }

  async retire(batch: Batch, last: boolean): Promise<void> {
    let retired: Retired | undefined;
    const done = await this.step(batch.name, async () => {
      retired = await retire(this.sql, batch.plans, batch.expired, { lease: this.lease, onCounted: this.counted });
    });
    if (done) return this.record(retired!);
    if (!last || !batch.plans.length || !batch.expired.length) return;
    // A day that keeps failing must not hold the expired archive days hostage.
    const expired = await this.step('expire archived days', async () => {
      retired = await retire(this.sql, [], batch.expired, { lease: this.lease });
    });
    if (expired) this.record(retired!);
  }

  /** Adds what one retire transaction did to the summary. */
  record(retired: Retired): void {
    const s = this.summary;
    for (const e of retired.expired) {
      this.act(`purge ${e.table} ${e.day} (${e.rows} rows)`);
      s.archivedDaysDropped.push(`${e.table}:${e.day}`);
      s.partitionsDropped++;
      s.rowsPurged[e.table === 'archived_system_logs' ? 'system_logs' : 'performance_logs'] += e.rows;
    }
    for (const { plan, counts } of retired.days) {
      const kept = keptRows(plan, counts);
      this.act(describe(plan, counts));
      if (plan.keep !== 'all' || plan.archiveHasDay) s.partitionsDropped++; // a whole day moved is not dropped
      s.rowsPurged[plan.table] += counts.total - kept;
      s.rowsKept.total += kept;
      if (plan.keep === 'none') continue;
      s.daysArchived.push(`${plan.table}:${plan.day}`);
      if (plan.table === 'performance_logs') s.rowsKept.performance += kept;
      else {
        if (plan.keepOnly !== CLASS_SQL.trading) s.rowsKept.error += counts.error;
        if (plan.keepOnly !== CLASS_SQL.error) s.rowsKept.trading += counts.trading;
      }
    }
  }
}

/** One run: the lease, then the freeing beside sweep, premake and the retire transactions. */
export async function runRetention(
  sql: Sql,
  policy: RetentionPolicy = DEFAULT_POLICY,
  options: RetentionOptions = {},
): Promise<RetentionSummary> {
  const started = Date.now();
  const run = new Run(sql, policy, options);
  if (!run.dryRun && !(await acquireLease(sql, run.lease))) {
    run.skip('another retention run holds the lease');
    run.summary.durationMs = Date.now() - started;
    return run.summary;
  }
  const freeing = run.freePurged();
  freeing.catch(() => {}); // awaited below, or settled in `finally`
  try {
    const [days, waiting] = await Promise.all([partitionDays(sql), defaultPartitionDays(sql)]);
    await run.sweep(days, waiting);
    await run.premake(days);
    const batches = run.batches(days);
    for (const [i, batch] of batches.entries()) {
      if (run.dryRun) await run.preview(batch);
      else await run.retire(batch, i === batches.length - 1);
    }
    run.counted(); // no day was due, or none could be counted
    await freeing;
  } finally {
    run.counted();
    await Promise.allSettled([freeing]);
    if (!run.dryRun) await releaseLease(sql, run.lease).catch(() => {}); // an expired lease frees itself
    run.summary.durationMs = Date.now() - started;
  }
  return run.summary;
}
