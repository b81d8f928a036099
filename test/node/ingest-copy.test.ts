/**
 * insertBatch's two paths against a real Postgres: a large batch of new records is COPYed, a batch
 * with a record stored already falls back to INSERT … ON CONFLICT DO NOTHING, and the JS class of
 * a row agrees with logging.retention_class(), which the table's CHECK enforces.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Sql } from '../../shared/db/client';
import { COPY_MIN_RECORDS, insertBatch, retentionClass } from '../../shared/ingest/sql';
import type { LogRow } from '../../shared/ingest/types';

const statements: string[] = [];
const sql = postgres(inject('databaseUrl'), {
  max: 2,
  onnotice: () => {},
  debug: (_connection, query) => statements.push(query),
}) as unknown as Sql;
afterAll(() => sql.end());

const service = `copy_${crypto.randomUUID().slice(0, 8)}`;
const rows = (n: number): LogRow[] =>
  Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    service,
    level: i % 2 ? 'ERROR' : 'INFO',
    message: `m${i}`,
    data: null,
    correlation_id: null,
    event_type: null,
  }));

async function run(logs: LogRow[]) {
  statements.length = 0;
  const result = await insertBatch(sql, logs, []);
  return {
    result,
    copied: statements.some((s) => s.startsWith('COPY')),
    inserted: statements.some((s) => s.includes('INSERT INTO logging.system_logs')),
  };
}

describe('insertBatch', () => {
  it('COPYs a large batch of new records, and inserts idempotently when one is stored already', async () => {
    const batch = rows(COPY_MIN_RECORDS);
    expect(await run(batch)).toEqual({ result: { logsInserted: COPY_MIN_RECORDS, metricsInserted: 0 }, copied: true, inserted: false });
    const more = rows(COPY_MIN_RECORDS);
    expect(await run([...more, batch[5]!])).toEqual({
      result: { logsInserted: COPY_MIN_RECORDS, metricsInserted: 0 },
      copied: true,
      inserted: true,
    });
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE service = ${service}`;
    expect(row!.n).toBe(2 * COPY_MIN_RECORDS);
  });

  it('inserts a small batch without trying COPY', async () => {
    expect(await run(rows(COPY_MIN_RECORDS - 1))).toMatchObject({ copied: false, inserted: true });
  });

  it("computes each row's class as logging.retention_class() does", async () => {
    for (const level of ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])
      for (const eventType of [null, 'trading', 'system', 'performance', 'Trading', '']) {
        const [row] = await sql<{ c: string }[]>`SELECT logging.retention_class(${level}, ${eventType}::text) AS c`;
        expect(retentionClass(level, eventType), `${level}/${eventType}`).toBe(row!.c);
      }
  });
});
