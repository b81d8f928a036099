/**
 * The SQL of retention: whole-day partition moves and purges, and the job lease. A day of
 * system_logs is split by retention class (see the retention_classes migration), so moving a day's
 * kept rows to the archive is DETACH and ATTACH of its `extended` partition, and purging the rest
 * is taking it out of the table (logging.purge_partition: detached, renamed purged_<name>, its
 * leaves too): catalog work whatever the day holds. Their files are dropped by the next run
 * (freePurged), beside that run's own day. Every transaction runs with a lock timeout, and a
 * retire transaction takes the locks ingest waits on last, each for a moment at most
 * (lockStatements), so ingest never queues behind it for longer.
 */
import type { Sql, TransactionSql } from '../db/client';
import { holdsLease, LeaseLostError, renewLease, type Lease } from '../db/leases';
import { DAY_MS } from '../time';

export type ActiveTable = 'system_logs' | 'performance_logs';
export type LogTable = ActiveTable | 'archived_system_logs' | 'archived_performance_logs';
export const ACTIVE_TABLES: readonly ActiveTable[] = ['system_logs', 'performance_logs'];
export const ARCHIVE_OF: Record<ActiveTable, LogTable> = {
  system_logs: 'archived_system_logs',
  performance_logs: 'archived_performance_logs',
};

const LOCK_TIMEOUT = '1s';
/**
 * How long a retire transaction waits for each lock its moves need (its counts wait up to
 * LOCK_TIMEOUT). Short, for two reasons: ingest queues behind a request for the tables it writes,
 * so this is the longest it waits on one try; and a reader that deadlocks with the job finds the
 * job's try ended before the deadlock detector (deadlock_timeout, 1 s by default) would end the
 * reader's query. A try that times out rolls back and is retried.
 */
const MOVE_LOCK_TIMEOUT = '200ms';
const STATEMENT_TIMEOUT = '50s'; // under Hyperdrive's 60 s limit

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const TABLES = new Set<string>(['system_logs', 'performance_logs', 'archived_system_logs', 'archived_performance_logs']);

function checkTable(t: string): string {
  if (!TABLES.has(t)) throw new Error(`not a log table: ${t}`);
  return t;
}

function checkDay(day: string): string {
  if (!DAY_RE.test(day)) throw new Error(`not a day: ${day}`);
  return day;
}

export function partitionName(table: string, day: string): string {
  return `${checkTable(table)}_p${checkDay(day).replaceAll('-', '')}`;
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

function bounds(day: string): string {
  return `FOR VALUES FROM ('${checkDay(day)} 00:00:00+00') TO ('${nextDay(day)} 00:00:00+00')`;
}

const DAY_PARTITION_RE = /_p\d{8}$/;
const dayOfName = (name: string) => `${name.slice(-8, -4)}-${name.slice(-4, -2)}-${name.slice(-2)}`;

/** The day partitions attached to each log table (not the default ones), oldest first. */
export async function partitionDays(sql: Sql): Promise<Record<LogTable, string[]>> {
  // From pg_inherits by its parent index, names through the syscache: a join to pg_class would
  // scan it, milliseconds once there are thousands of partitions.
  const rows = await sql<{ parent: LogTable; name: string }[]>`
    SELECT t.parent, i.inhrelid::regclass::text AS name
    FROM unnest(ARRAY['system_logs', 'performance_logs', 'archived_system_logs', 'archived_performance_logs']) AS t(parent)
    JOIN pg_inherits i ON i.inhparent = ('logging.' || t.parent)::regclass`;
  const days: Record<LogTable, string[]> = {
    system_logs: [],
    performance_logs: [],
    archived_system_logs: [],
    archived_performance_logs: [],
  };
  for (const r of rows) if (DAY_PARTITION_RE.test(r.name)) days[r.parent].push(dayOfName(r.name));
  for (const list of Object.values(days)) list.sort();
  return days;
}

export async function listDays(sql: Sql, table: LogTable): Promise<string[]> {
  return (await partitionDays(sql))[checkTable(table) as LogTable];
}

/** UTC days that have rows waiting in the active tables' default partitions. */
export async function defaultPartitionDays(sql: Sql): Promise<{ table: ActiveTable; day: string }[]> {
  // A default partition is almost always empty, and an empty file says so without planning a scan.
  const [used] = await sql<Record<ActiveTable, boolean>[]>`
    SELECT pg_relation_size('logging.system_logs_default') > 0 AS system_logs,
           pg_relation_size('logging.performance_logs_default') > 0 AS performance_logs`;
  const tables = ACTIVE_TABLES.filter((t) => used![t]);
  if (tables.length === 0) return [];
  return sql.unsafe<{ table: ActiveTable; day: string }[]>(
    tables
      .map((t) => `SELECT DISTINCT '${t}' AS table, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM logging.${t}_default`)
      .join(' UNION ') + ' ORDER BY 2, 1',
  );
}

/**
 * One retention transaction: renews the lease (or only checks it, with `checkLease` holdsLease)
 * or fails with LeaseLostError, rolling back; sets the lock and statement timeouts, then runs
 * `body`. `beforeCommit` is a test hook: throwing there rolls everything back.
 */
async function ddl<T>(
  sql: Sql,
  lease: Lease | undefined,
  body: (tx: TransactionSql) => Promise<T>,
  beforeCommit?: (tx: TransactionSql) => Promise<void>,
  checkLease: (tx: TransactionSql, lease: Lease) => Promise<boolean> = renewLease,
): Promise<T> {
  return sql.begin(async (tx) => {
    const [held] = await Promise.all([
      lease ? checkLease(tx, lease) : true,
      tx.unsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'; SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT}'`),
    ]);
    if (!held) throw new LeaseLostError(lease!.name);
    const result = await body(tx);
    await beforeCommit?.(tx);
    return result;
  }) as Promise<T>;
}

/** Creates the given day partitions (and moves rows waiting for them out of the default partition); returns how many it made. */
export async function ensureDays(sql: Sql, days: { table: LogTable; day: string }[], lease?: Lease): Promise<number> {
  if (days.length === 0) return 0;
  const list = JSON.stringify(days.map((d) => ({ t: checkTable(d.table), d: checkDay(d.day) })));
  return ddl(sql, lease, async (tx) => {
    const [row] = await tx<{ created: number }[]>`
      SELECT count(*) FILTER (WHERE logging.ensure_day_partition(t, d))::int AS created
      FROM json_to_recordset(${list}::text::json) AS x(t text, d date)`;
    return row!.created;
  });
}

export async function ensureDay(sql: Sql, table: LogTable, day: string): Promise<boolean> {
  return (await ensureDays(sql, [{ table, day }])) === 1;
}

/** Rows of one active day by what retention does with them. */
export interface DayCounts {
  total: number;
  /** system_logs: the extended partition's rows, and of those the ERROR/CRITICAL and the trading ones. */
  extended: number;
  error: number;
  trading: number;
}

export const CLASS_SQL = {
  error: `level IN ('ERROR', 'CRITICAL')`,
  // The audit trail is kept as long as trading logs.
  trading: `event_type IN ('trading', 'audit')`,
} as const;

/** Rows of one partition, and for an extended one its ERROR/CRITICAL and trading rows. */
interface Tally {
  rows: number;
  error: number;
  trading: number;
}

function tally(sql: Sql | TransactionSql, partition: string, byClass = false): Promise<Tally> {
  // One count per class rather than FILTERs over one scan: each is an index-only scan of a small
  // index (the level or the event_type one), where FILTERs would read every row of the partition.
  const count = (where = '') => `(SELECT count(*) FROM logging.${partition}${where && ` WHERE ${where}`})::int`;
  const classes = byClass ? `${count(CLASS_SQL.error)} AS error, ${count(CLASS_SQL.trading)} AS trading` : '0 AS error, 0 AS trading';
  return sql.unsafe<Tally[]>(`SELECT ${count()} AS rows, ${classes}`).then(([row]) => row!);
}

/** The partitions that hold one active day's rows: a system_logs day is split by class. */
function leaves(table: ActiveTable, day: string): { standard: string; extended?: string } {
  const part = partitionName(table, day);
  return table === 'system_logs' ? { standard: `${part}_standard`, extended: `${part}_extended` } : { standard: part };
}

function dayCounts(standard: Tally, extended?: Tally): DayCounts {
  return {
    total: standard.rows + (extended?.rows ?? 0),
    extended: extended?.rows ?? 0,
    error: extended?.error ?? 0,
    trading: extended?.trading ?? 0,
  };
}

/** Exact counts, read from the day's partitions only. */
export async function countDay(sql: Sql, table: ActiveTable, day: string): Promise<DayCounts> {
  const { standard, extended } = leaves(table, day);
  const [s, e] = await Promise.all([tally(sql, standard), extended ? tally(sql, extended, true) : undefined]);
  return dayCounts(s, e);
}

/** Rows in an archive day, for the summary of what expiring it purges. */
export async function countArchivedDay(sql: Sql, table: LogTable, day: string): Promise<number> {
  return (await tally(sql, partitionName(table, day))).rows;
}

/** What happens to one active day at archive age. */
export interface RetirePlan {
  table: ActiveTable;
  day: string;
  /**
   * 'none': the day is dropped. 'all': the whole day moves to the archive. 'extended' (system_logs
   * only): its extended partition moves, the standard one is dropped.
   */
  keep: 'none' | 'extended' | 'all';
  /** With 'extended', when the policy keeps only some of that class: the rows to keep (fixed SQL); the others are deleted first. */
  keepOnly?: string;
  /** The archive has this day already (rows that arrived after it moved): copy into it instead of attaching. */
  archiveHasDay: boolean;
}

/** Takes a partition out of its table (see the purged_partitions migration). */
const purge = (partition: string) => `SELECT logging.purge_partition('logging.${partition}')`;

/**
 * The statements that retire one day; partition operations only, unless `keepOnly` or
 * `archiveHasDay` say otherwise. `purge` (what remains of the day) runs after `move`.
 */
export function retireStatements(p: RetirePlan): { move: string[]; purge: string[] } {
  const day = partitionName(p.table, p.day);
  if (p.keep === 'none') return { move: [], purge: [purge(day)] };
  if (p.keep === 'extended' && p.table !== 'system_logs') throw new Error(`${p.table} has no extended partition`);
  const archive = ARCHIVE_OF[p.table];
  const target = partitionName(archive, p.day);
  const moving = p.keep === 'extended' ? `${day}_extended` : day;
  const move = [
    p.keep === 'extended'
      ? `ALTER TABLE logging.${day} DETACH PARTITION logging.${moving}`
      : `ALTER TABLE logging.${p.table} DETACH PARTITION logging.${day}`,
  ];
  if (p.keepOnly) move.push(`DELETE FROM logging.${moving} WHERE (${p.keepOnly}) IS NOT TRUE`);
  if (p.archiveHasDay) {
    move.push(`INSERT INTO logging.${archive} SELECT * FROM logging.${moving} ON CONFLICT DO NOTHING`, purge(moving));
  } else {
    move.push(`ALTER TABLE logging.${moving} RENAME TO ${target}`);
    if (p.keep === 'all' && p.table === 'system_logs') {
      for (const cls of ['standard', 'extended']) move.push(`ALTER TABLE logging.${day}_${cls} RENAME TO ${target}_${cls}`);
    }
    move.push(`ALTER TABLE logging.${archive} ATTACH PARTITION logging.${target} ${bounds(p.day)}`);
  }
  return { move, purge: p.keep === 'extended' ? [purge(day)] : [] };
}

const ARCHIVES: readonly LogTable[] = ['archived_system_logs', 'archived_performance_logs'];

/**
 * The locks a retire transaction takes before its first move, each waited for briefly
 * (MOVE_LOCK_TIMEOUT), from what ingest never writes to what it does: the day partitions it moves
 * and purges, with their leaves (a reader holding them holds the job up, not ingest, which writes
 * today's partition), the archives, then the tables ingest writes, in ingest's own order. Nothing
 * after them waits while ingest queues behind the job. The tables are locked without their
 * partitions (ONLY): an insert or a reader reaches a partition through its table.
 */
function lockStatements(plans: RetirePlan[], expired: { table: LogTable; day: string }[]): string[] {
  const days = [...plans, ...expired].map((d) => `logging.${partitionName(d.table, d.day)}`);
  const attachedTo = new Set(plans.filter((p) => p.keep !== 'none' && !p.archiveHasDay).map((p) => ARCHIVE_OF[p.table]));
  const purgedFrom = new Set(expired.map((e) => e.table));
  const active = ACTIVE_TABLES.filter((t) => plans.some((p) => p.table === t));
  return [
    `SET LOCAL lock_timeout = '${MOVE_LOCK_TIMEOUT}'`,
    ...(days.length ? [`LOCK TABLE ${days.join(', ')} IN ACCESS EXCLUSIVE MODE`] : []),
    ...ARCHIVES.filter((t) => purgedFrom.has(t) || attachedTo.has(t)).map(
      (t) => `LOCK TABLE ONLY logging.${t} IN ${purgedFrom.has(t) ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE'} MODE`,
    ),
    ...(active.length ? [`LOCK TABLE ONLY ${active.map((t) => `logging.${t}`).join(', ')} IN ACCESS EXCLUSIVE MODE`] : []),
  ];
}

/** What one retire transaction did, counted inside it just before the move: the run's summary figures. */
export interface Retired {
  days: { plan: RetirePlan; counts: DayCounts }[];
  expired: { table: LogTable; day: string; rows: number }[];
}

/**
 * Retires days and purges expired archive days in one transaction: all or nothing, so a crash at
 * any point leaves every day as it was, for the next run. Purged partitions leave their tables
 * here; their files are freed by the next run (freePurged).
 */
export async function retire(
  sql: Sql,
  plans: RetirePlan[],
  expiredArchiveDays: { table: LogTable; day: string }[],
  options: { lease?: Lease; beforeCommit?: (tx: TransactionSql) => Promise<void>; onCounted?: () => void } = {},
): Promise<Retired> {
  return ddl(
    sql,
    options.lease,
    async (tx) => {
      const statements = plans.map(retireStatements);
      // Counting and moving are pipelined in one round trip.
      const counting = Promise.all([
        Promise.all(
          plans.map((p) => {
            const { standard, extended } = leaves(p.table, p.day);
            return Promise.all([tally(tx, standard), extended ? tally(tx, extended, true) : undefined]);
          }),
        ),
        Promise.all(expiredArchiveDays.map((e) => tally(tx, partitionName(e.table, e.day)))),
      ]).then((tallies) => {
        options.onCounted?.();
        return tallies;
      });
      const locking = lockStatements(plans, expiredArchiveDays);
      const [[dayTallies, expiredTallies]] = await Promise.all([
        counting,
        ...[...locking, ...statements.flatMap((s) => s.move)].map((q) => tx.unsafe(q)),
      ]);
      const purges = [
        ...statements.flatMap((s) => s.purge),
        ...expiredArchiveDays.map(({ table, day }) => purge(partitionName(table, day))),
      ];
      await Promise.all(purges.map((q) => tx.unsafe(q)));
      return {
        days: plans.map((plan, i) => ({ plan, counts: dayCounts(...dayTallies[i]!) })),
        expired: expiredArchiveDays.map((e, i) => ({ ...e, rows: expiredTallies[i]!.rows })),
      };
    },
    options.beforeCommit,
  );
}

/**
 * Partitions purged by earlier runs, waiting for their files to be freed: a purged day split by
 * class is one entry, its leaves with it (their files counted in its bytes).
 */
export async function purgedPartitions(sql: Sql | TransactionSql): Promise<{ name: string; bytes: number }[]> {
  // By the name index (a range of names), not a scan of pg_class.
  return sql<{ name: string; bytes: number }[]>`
    SELECT c.relname::text AS name,
           CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t)
                ELSE pg_total_relation_size(c.oid) END::float8 AS bytes
    FROM pg_class c
    WHERE c.relname >= 'purged_' AND c.relname < 'purged\`' AND c.relnamespace = 'logging'::regnamespace
      AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname`;
}

/** Purged tables dropped per transaction: a purged day locks some 30 relations to be dropped. */
const FREE_BATCH = 32;

/**
 * Drops the partitions earlier runs purged, handing their files back, on a connection of its own
 * beside the retire transactions: in transactions of at most `batch` tables, so a backlog (after a
 * catch-up, hundreds of days) stays within the server's lock table. Nothing else uses these tables,
 * so it waits on no lock that ingest or a query holds. The lease is checked, not renewed: renewing
 * would lock the lease row against the run's other transactions. `onFreed` hears of each commit, so
 * what was freed is known even when a later transaction fails.
 */
export async function freePurged(
  sql: Sql,
  lease?: Lease,
  options: {
    batch?: number;
    onFreed?: (freed: { tables: string[]; bytes: number }) => void;
    /** Awaited before each commit, the tables dropped: the commit is what hands the files back. */
    beforeCommit?: () => Promise<void>;
  } = {},
): Promise<{ tables: string[]; bytes: number }> {
  const total = { tables: [] as string[], bytes: 0 };
  const purged = await purgedPartitions(sql);
  const batch = options.batch ?? FREE_BATCH;
  for (let i = 0; i < purged.length; i += batch) {
    const share = purged.slice(i, i + batch);
    await ddl(
      sql,
      lease,
      async (tx) => {
        await tx.unsafe(`DROP TABLE IF EXISTS ${share.map((p) => `logging.${p.name}`).join(', ')}`);
      },
      options.beforeCommit,
      holdsLease,
    );
    const freed = { tables: share.map((p) => p.name), bytes: share.reduce((sum, p) => sum + p.bytes, 0) };
    options.onFreed?.(freed);
    total.tables.push(...freed.tables);
    total.bytes += freed.bytes;
  }
  return total;
}
