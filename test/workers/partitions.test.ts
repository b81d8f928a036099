import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { insertBatch } from '../../shared/ingest';
import { ensurePartitions } from '../../shared/retention';
import { isoDay } from '../../shared/time';
import { testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());
const DAY = 86_400_000;

async function partitionOf(id: string): Promise<string | undefined> {
  const [row] = await sql<{ part: string }[]>`SELECT tableoid::regclass::text AS part FROM logging.system_logs WHERE id = ${id}`;
  return row?.part;
}

describe('day partitions', () => {
  it('today and the next days exist after migrating', async () => {
    const today = isoDay(new Date()).replaceAll('-', '');
    const rows = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'logging' AND tablename IN (${'system_logs_p' + today}, ${'performance_logs_p' + today})`;
    expect(rows[0]!.n).toBe(2);
  });

  it('a record whose day has no partition lands in the default one, and moves to its day when the day is created', async () => {
    // Far enough ahead that no other test creates this day.
    const day = new Date(Date.now() + (400 + Math.floor(Math.random() * 1000)) * DAY);
    const id = crypto.randomUUID();
    const ts = `${isoDay(day)}T12:00:00.000Z`;
    const service = uniqueService('data_ingestion');
    const result = await insertBatch(
      sql,
      [{ id, timestamp: ts, service, level: 'INFO', message: 'early', data: null, correlation_id: null, event_type: null }],
      [],
    );
    expect(result.logsInserted).toBe(1);
    expect(await partitionOf(id)).toBe('logging.system_logs_default');

    const created = await ensurePartitions(sql, day, day);
    expect(created).toBe(2);
    expect(await partitionOf(id)).toBe(`logging.system_logs_p${isoDay(day).replaceAll('-', '')}_standard`); // INFO: the standard class
    const inDefault = await sql`SELECT 1 FROM logging.system_logs_default WHERE id = ${id}`;
    expect(inDefault).toHaveLength(0);

    // Idempotent: a second run creates nothing and the row is still there once.
    expect(await ensurePartitions(sql, day, day)).toBe(0);
    const all = await sql`SELECT 1 FROM logging.system_logs WHERE id = ${id}`;
    expect(all).toHaveLength(1);
  });

  it('two concurrent runs create each day once without failing', async () => {
    const from = new Date(Date.now() + (3000 + Math.floor(Math.random() * 1000)) * DAY);
    const to = new Date(from.getTime() + 3 * DAY);
    const other = testSql();
    const [a, b] = await Promise.all([ensurePartitions(sql, from, to), ensurePartitions(other, from, to)]);
    await other.end();
    expect(a + b).toBe(8);
  });

  it('the scheduled handler premakes the coming days', async () => {
    const horizon = new Date(Date.now() + 14 * DAY);
    const name = `system_logs_p${isoDay(horizon).replaceAll('-', '')}`;
    await sql.unsafe(`DROP TABLE IF EXISTS logging.${name}`);
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: '0 2 * * *', scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const rows = await sql`SELECT 1 FROM pg_tables WHERE schemaname = 'logging' AND tablename = ${name}`;
    expect(rows).toHaveLength(1);
  });
});
