/**
 * The retention-classes migration rebuilds the system log tables: down (with the purge migrations
 * after it) and up again must keep every row, and up must sort each row into its class's
 * partition.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSql, type Sql } from '../../shared/db/client';
import { insertBatch, type LogRow } from '../../shared/ingest';
import { migrate, startScratchDatabase, type Database } from '../../shared/dev/postgres';

let db: Database;
let sql: Sql;

beforeAll(async () => {
  db = await startScratchDatabase('migrations');
  sql = createSql(db.url, { max: 2 });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await db?.stop();
});

const rows = async () =>
  (
    await sql<
      { message: string }[]
    >`SELECT message FROM logging.system_logs UNION ALL SELECT message FROM logging.archived_system_logs ORDER BY 1`
  ).map((r) => r.message);

it('down and up again keep every row, each in its class partition', async () => {
  const ts = new Date().toISOString();
  const base = { timestamp: ts, service: 'execution', data: null, correlation_id: null };
  const logs: LogRow[] = [
    { ...base, id: crypto.randomUUID(), level: 'INFO', message: 'info', event_type: null },
    { ...base, id: crypto.randomUUID(), level: 'CRITICAL', message: 'critical', event_type: null },
    { ...base, id: crypto.randomUUID(), level: 'INFO', message: 'trade', event_type: 'trading' },
  ];
  await insertBatch(sql, logs, []);
  // A row of a day with no partition: it waits in the default partition.
  await insertBatch(sql, [{ ...logs[0]!, id: crypto.randomUUID(), timestamp: '2020-01-01T00:00:00Z', message: 'old' }], []);
  const before = await rows();
  expect(before).toEqual(['critical', 'info', 'old', 'trade']);

  // A day purged whole (a partitioned purged_ table) is dropped by the purge-whole-day migration's
  // down: the freeing before it only knows purged leaves.
  const [last] = await sql<{ day: string }[]>`
    SELECT max(inhrelid::regclass::text) AS day FROM pg_inherits
    WHERE inhparent = 'logging.system_logs'::regclass AND inhrelid::regclass::text ~ '_p[0-9]{8}$'`;
  await sql.unsafe(`SELECT logging.purge_partition('${last!.day}')`);
  const purgedDays = () =>
    sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_class WHERE left(relname, 7) = 'purged_' AND relkind = 'p'`;
  expect((await purgedDays())[0]!.n).toBe(1);
  await migrate(db.url, 'down'); // key limits
  expect((await sql`SELECT to_regclass('logging.key_usage')::text AS t`)[0]!.t).toBeNull();
  expect((await sql`SELECT logging.retention_class('INFO', 'audit') AS c`)[0]!.c).toBe('standard');
  await migrate(db.url, 'down'); // alert rollups
  expect((await sql`SELECT to_regclass('logging.log_counts_minute')::text AS t`)[0]!.t).toBeNull();
  await migrate(db.url, 'down'); // alerting
  expect((await sql`SELECT to_regclass('logging.alert_rules')::text AS t`)[0]!.t).toBeNull();
  await migrate(db.url, 'down'); // purge whole day
  expect((await purgedDays())[0]!.n).toBe(0);
  await migrate(db.url, 'down'); // purged partitions
  const [fn] = await sql<{ f: string | null }[]>`SELECT to_regprocedure('logging.purge_partition(regclass)')::text AS f`;
  expect(fn!.f).toBeNull();
  await migrate(db.url, 'down'); // retention classes
  const columns = await sql<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'logging' AND table_name = 'system_logs' AND column_name = 'retention_class'`;
  expect(columns[0]!.n).toBe(0);
  expect(await rows()).toEqual(before);

  await migrate(db.url, 'up');
  expect(await rows()).toEqual(before);
  const day = ts.slice(0, 10).replaceAll('-', '');
  const extended = await sql.unsafe<{ message: string }[]>(`SELECT message FROM logging.system_logs_p${day}_extended ORDER BY 1`);
  expect(extended.map((r) => r.message)).toEqual(['critical', 'trade']);
  const standard = await sql.unsafe<{ message: string }[]>(`SELECT message FROM logging.system_logs_p${day}_standard ORDER BY 1`);
  expect(standard.map((r) => r.message)).toEqual(['info']);
  // And ingest still works on the rebuilt table.
  await insertBatch(sql, [{ ...logs[0]!, id: crypto.randomUUID(), message: 'after' }], []);
  expect(await rows()).toContain('after');
}, 120_000);
