/**
 * The SQL of retention: whole-day partition moves and drops, and the job lease. Every statement
 * touches one day (work proportional to that day, never to the table) and runs with a short lock
 * timeout, so it never queues ingest behind it for more than a moment.
 */
import type { Sql } from './client';

export type ActiveTable = 'system_logs' | 'performance_logs';
export const ARCHIVE_OF: Record<ActiveTable, string> = {
  system_logs: 'archived_system_logs',
  performance_logs: 'archived_performance_logs',
};

const LOCK_TIMEOUT = '1s';
const STATEMENT_TIMEOUT = '50s'; // under Hyperdrive's 60 s limit

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const TABLES = new Set(['system_logs', 'performance_logs', 'archived_system_logs', 'archived_performance_logs']);

async function limits(tx: Pick<Sql, 'unsafe'>): Promise<void> {
  await tx.unsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
  await tx.unsafe(`SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT}'`);
}

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

/** The day partitions attached to a table (not the default one), oldest first. */
export async function listDays(sql: Sql, table: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = 'logging' AND p.relname = ${checkTable(table)} AND c.relname ~ '_p[0-9]{8}$'`;
  return rows
    .map((r) => r.name.slice(-8))
    .map((d) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`)
    .sort();
}

/** UTC days that have rows waiting in a table's default partition. */
export async function defaultPartitionDays(sql: Sql, table: ActiveTable): Promise<string[]> {
  const rows = await sql.unsafe<{ day: string }[]>(
    `SELECT DISTINCT to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM logging.${checkTable(table)}_default ORDER BY 1`,
  );
  return rows.map((r) => r.day);
}

export async function ensureDay(sql: Sql, table: ActiveTable, day: string): Promise<boolean> {
  return sql.begin(async (tx) => {
    await limits(tx);
    const [row] = await tx<{ created: boolean }[]>`SELECT logging.ensure_day_partition(${table}, ${checkDay(day)}::date) AS created`;
    return row!.created;
  });
}

/** Row counts of one day: in all, and for each named predicate (fixed SQL fragments). */
export async function countDay(sql: Sql, table: string, day: string, predicates: Record<string, string> = {}): Promise<Record<string, number>> {
  const filters = Object.entries(predicates).map(([k, p]) => `, count(*) FILTER (WHERE ${p})::int AS "${k.replace(/\W/g, '')}"`).join('');
  const [row] = await sql.unsafe<Record<string, number>[]>(`SELECT count(*)::int AS total${filters} FROM logging.${partitionName(table, day)}`);
  return row!;
}

export interface ArchiveResult {
  total: number;
  kept: number;
}

/**
 * In one transaction: copies the rows of a day that `keep` (a fixed SQL predicate) selects into the
 * archive's partition for that day (creating and attaching it, or adding to it if an earlier run
 * or a late row made it already), then detaches and drops the active day. All or nothing: a crash
 * at any point leaves the day as it was, for the next run.
 */
export async function archiveDay(
  sql: Sql,
  table: ActiveTable,
  day: string,
  keep: string | null,
  options: { beforeDetach?: () => Promise<void>; /** the day's row count, when the caller has it */ total?: number } = {},
): Promise<ArchiveResult> {
  const active = partitionName(table, day);
  const archiveTable = ARCHIVE_OF[table];
  const archived = partitionName(archiveTable, day);
  return sql.begin(async (tx) => {
    await limits(tx);
    const total = options.total ?? ((await tx.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM logging.${active}`))[0]!.n);
    let kept = 0;
    if (keep) {
      const [exists] = await tx<{ attached: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = ${archived}) AS attached`;
      if (!exists!.attached) {
        await tx.unsafe(`CREATE TABLE IF NOT EXISTS logging.${archived} (LIKE logging.${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        await tx.unsafe(`ALTER TABLE logging.${archiveTable} ATTACH PARTITION logging.${archived} ${bounds(day)}`);
      }
      const inserted = await tx.unsafe(
        `INSERT INTO logging.${archived} SELECT * FROM logging.${active} WHERE ${keep} ON CONFLICT DO NOTHING`,
      );
      kept = inserted.count;
    }
    await options.beforeDetach?.();
    await tx.unsafe(`ALTER TABLE logging.${table} DETACH PARTITION logging.${active}`);
    await tx.unsafe(`DROP TABLE logging.${active}`);
    return { total, kept };
  });
}

/** Detaches and drops one day partition; returns how many rows it held. */
export async function dropDay(sql: Sql, table: string, day: string, knownRows?: number): Promise<number> {
  const name = partitionName(table, day);
  return sql.begin(async (tx) => {
    await limits(tx);
    const n = knownRows ?? (await tx.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM logging.${name}`))[0]!.n;
    await tx.unsafe(`ALTER TABLE logging.${checkTable(table)} DETACH PARTITION logging.${name}`);
    await tx.unsafe(`DROP TABLE logging.${name}`);
    return n;
  });
}

/** Takes the named lease for `ttlSeconds` unless a live holder has it. */
export async function acquireLease(sql: Sql, name: string, holder: string, ttlSeconds: number): Promise<boolean> {
  const rows = await sql`
    INSERT INTO logging.job_leases (name, holder, expires_at) VALUES (${name}, ${holder}, now() + make_interval(secs => ${ttlSeconds}))
    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
    WHERE logging.job_leases.expires_at < now() OR logging.job_leases.holder = EXCLUDED.holder
    RETURNING holder`;
  return rows.length === 1;
}

export async function releaseLease(sql: Sql, name: string, holder: string): Promise<void> {
  await sql`DELETE FROM logging.job_leases WHERE name = ${name} AND holder = ${holder}`;
}
