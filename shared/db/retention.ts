/**
 * The SQL of retention: whole-day partition moves and drops, and the job lease. A day of
 * system_logs is split by retention class (see the retention_classes migration), so moving a day's
 * kept rows to the archive is DETACH and ATTACH of its `extended` partition, and purging the rest
 * is DROP: catalog work whatever the day holds. Every transaction runs with a short lock timeout,
 * so it never queues ingest behind it for more than a moment.
 */
import type { Sql, TransactionSql } from './client';

export type ActiveTable = 'system_logs' | 'performance_logs';
export type LogTable = ActiveTable | 'archived_system_logs' | 'archived_performance_logs';
export const ACTIVE_TABLES: readonly ActiveTable[] = ['system_logs', 'performance_logs'];
export const ARCHIVE_OF: Record<ActiveTable, LogTable> = {
  system_logs: 'archived_system_logs',
  performance_logs: 'archived_performance_logs',
};

const LOCK_TIMEOUT = '1s';
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
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function bounds(day: string): string {
  return `FOR VALUES FROM ('${checkDay(day)} 00:00:00+00') TO ('${nextDay(day)} 00:00:00+00')`;
}

const dayOfName = (name: string) => `${name.slice(-8, -4)}-${name.slice(-4, -2)}-${name.slice(-2)}`;

/** The day partitions attached to each log table (not the default ones), oldest first. */
export async function partitionDays(sql: Sql): Promise<Record<LogTable, string[]>> {
  const rows = await sql<{ parent: LogTable; name: string }[]>`
    SELECT p.relname AS parent, c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE i.inhparent IN ('logging.system_logs'::regclass, 'logging.performance_logs'::regclass,
                          'logging.archived_system_logs'::regclass, 'logging.archived_performance_logs'::regclass)
      AND c.relname ~ '_p[0-9]{8}$'`;
  const days: Record<LogTable, string[]> = { system_logs: [], performance_logs: [], archived_system_logs: [], archived_performance_logs: [] };
  for (const r of rows) days[r.parent].push(dayOfName(r.name));
  for (const list of Object.values(days)) list.sort();
  return days;
}

export async function listDays(sql: Sql, table: LogTable): Promise<string[]> {
  return (await partitionDays(sql))[checkTable(table) as LogTable];
}

/** UTC days that have rows waiting in the active tables' default partitions. */
export async function defaultPartitionDays(sql: Sql): Promise<{ table: ActiveTable; day: string }[]> {
  return sql<{ table: ActiveTable; day: string }[]>`
    SELECT DISTINCT 'system_logs' AS table, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM logging.system_logs_default
    UNION
    SELECT DISTINCT 'performance_logs', to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM logging.performance_logs_default
    ORDER BY 2, 1`;
}

export interface Lease {
  name: string;
  holder: string;
  ttlSeconds: number;
}

export class LeaseLostError extends Error {
  constructor(readonly lease: string) {
    super(`lease ${lease} lost to another run`);
    this.name = 'LeaseLostError';
  }
}

/**
 * One retention transaction: renews the lease (or fails with LeaseLostError, rolling back), sets
 * the lock and statement timeouts, then runs `statements` (fixed SQL built here) in one round trip
 * and `then`, if given. `beforeCommit` is a test hook: throwing there rolls everything back.
 */
async function ddl<T>(
  sql: Sql,
  lease: Lease | undefined,
  statements: string[],
  options: { then?: (tx: TransactionSql) => Promise<T>; beforeCommit?: (tx: TransactionSql) => Promise<void> } = {},
): Promise<T | undefined> {
  return sql.begin(async (tx) => {
    if (lease && !(await renewLease(tx, lease))) throw new LeaseLostError(lease.name);
    await tx.unsafe([`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`, `SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT}'`, ...statements].join(';\n'));
    const result = await options.then?.(tx);
    await options.beforeCommit?.(tx);
    return result;
  }) as Promise<T | undefined>;
}

/** Creates the given day partitions (and moves rows waiting for them out of the default partition); returns how many it made. */
export async function ensureDays(sql: Sql, days: { table: LogTable; day: string }[], lease?: Lease): Promise<number> {
  if (days.length === 0) return 0;
  const list = JSON.stringify(days.map((d) => ({ t: checkTable(d.table), d: checkDay(d.day) })));
  const created = await ddl(sql, lease, [], {
    then: async (tx) => {
      const [row] = await tx<{ created: number }[]>`
        SELECT count(*) FILTER (WHERE logging.ensure_day_partition(t, d))::int AS created
        FROM json_to_recordset(${list}::text::json) AS x(t text, d date)`;
      return row!.created;
    },
  });
  return created ?? 0;
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
  trading: `event_type = 'trading'`,
} as const;

/** Exact counts, read from the day's partitions only. */
export async function countDay(sql: Sql, table: ActiveTable, day: string): Promise<DayCounts> {
  const part = partitionName(table, day);
  if (table === 'performance_logs') {
    const [row] = await sql.unsafe<{ total: number }[]>(`SELECT count(*)::int AS total FROM logging.${part}`);
    return { total: row!.total, extended: 0, error: 0, trading: 0 };
  }
  const [row] = await sql.unsafe<DayCounts[]>(`
    SELECT s.n + e.extended AS total, e.* FROM (SELECT count(*)::int AS n FROM logging.${part}_standard) s,
      (SELECT count(*)::int AS extended, count(*) FILTER (WHERE ${CLASS_SQL.error})::int AS error,
              count(*) FILTER (WHERE ${CLASS_SQL.trading})::int AS trading FROM logging.${part}_extended) e`);
  return row!;
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

/** The statements that retire one day; partition operations only, unless `keepOnly` or `archiveHasDay` say otherwise. */
export function retireStatements(p: RetirePlan): string[] {
  const day = partitionName(p.table, p.day);
  if (p.keep === 'none') return [`DROP TABLE logging.${day}`];
  if (p.keep === 'extended' && p.table !== 'system_logs') throw new Error(`${p.table} has no extended partition`);
  const archive = ARCHIVE_OF[p.table];
  const target = partitionName(archive, p.day);
  const moving = p.keep === 'extended' ? `${day}_extended` : day;
  const out = [
    p.keep === 'extended' ? `ALTER TABLE logging.${day} DETACH PARTITION logging.${moving}` : `ALTER TABLE logging.${p.table} DETACH PARTITION logging.${day}`,
  ];
  if (p.keepOnly) out.push(`DELETE FROM logging.${moving} WHERE (${p.keepOnly}) IS NOT TRUE`);
  if (p.archiveHasDay) {
    out.push(`INSERT INTO logging.${archive} SELECT * FROM logging.${moving} ON CONFLICT DO NOTHING`, `DROP TABLE logging.${moving}`);
  } else {
    out.push(`ALTER TABLE logging.${moving} RENAME TO ${target}`);
    if (p.keep === 'all' && p.table === 'system_logs') {
      for (const cls of ['standard', 'extended']) out.push(`ALTER TABLE logging.${day}_${cls} RENAME TO ${target}_${cls}`);
    }
    out.push(`ALTER TABLE logging.${archive} ATTACH PARTITION logging.${target} ${bounds(p.day)}`);
  }
  if (p.keep === 'extended') out.push(`DROP TABLE logging.${day}`);
  return out;
}

/**
 * Retires days and drops expired archive days in one transaction: all or nothing, so a crash at
 * any point leaves every day as it was, for the next run.
 */
export async function retire(
  sql: Sql,
  plans: RetirePlan[],
  expiredArchiveDays: { table: LogTable; day: string }[],
  options: { lease?: Lease; beforeCommit?: (tx: TransactionSql) => Promise<void> } = {},
): Promise<void> {
  const statements = [
    ...plans.flatMap(retireStatements),
    ...expiredArchiveDays.map(({ table, day }) => `DROP TABLE logging.${partitionName(table, day)}`),
  ];
  if (statements.length) await ddl(sql, options.lease, statements, { beforeCommit: options.beforeCommit });
}

/** Rows in an archive day, for the summary of what expiring it purges. */
export async function countArchivedDay(sql: Sql, table: LogTable, day: string): Promise<number> {
  const [row] = await sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM logging.${partitionName(table, day)}`);
  return row!.n;
}

/** Takes the named lease for `ttlSeconds` unless a live holder has it. */
export async function acquireLease(sql: Sql, lease: Lease): Promise<boolean> {
  const rows = await sql`
    INSERT INTO logging.job_leases (name, holder, expires_at) VALUES (${lease.name}, ${lease.holder}, now() + make_interval(secs => ${lease.ttlSeconds}))
    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
    WHERE logging.job_leases.expires_at < now() OR logging.job_leases.holder = EXCLUDED.holder
    RETURNING holder`;
  return rows.length === 1;
}

async function renewLease(tx: TransactionSql, lease: Lease): Promise<boolean> {
  const rows = await tx`
    UPDATE logging.job_leases SET expires_at = now() + make_interval(secs => ${lease.ttlSeconds})
    WHERE name = ${lease.name} AND holder = ${lease.holder} AND expires_at >= now() RETURNING 1`;
  return rows.length === 1;
}

export async function releaseLease(sql: Sql, lease: Lease): Promise<void> {
  await sql`DELETE FROM logging.job_leases WHERE name = ${lease.name} AND holder = ${lease.holder}`;
}
