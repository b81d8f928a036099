/**
 * The streaming replica the read-replica tests run against (shared/dev/replica.ts): a real
 * standby of the primary, of the same version, that replays what the primary commits and refuses
 * writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../shared/db/client';
import { isTransientDbError } from '../../shared/db/transient';
import { startReplicaPair, type ReplicaPair } from '../../shared/dev/replica';

let pair: ReplicaPair;
let primary: Sql;
let replica: Sql;

beforeAll(async () => {
  pair = await startReplicaPair('replica-test');
  primary = createSql(pair.primary.url, { max: 1 });
  replica = createSql(pair.replica.url, { max: 1 });
}, 120_000);

afterAll(async () => {
  await Promise.all([primary?.end({ timeout: 1 }), replica?.end({ timeout: 1 })]);
  await pair?.stop();
});

describe('a streaming replica of the embedded primary', () => {
  it('is in recovery, streams from the primary, and has the migrated schema', async () => {
    const [r] = await replica<{ recovering: boolean }[]>`SELECT pg_is_in_recovery() AS recovering`;
    expect(r!.recovering).toBe(true);
    const senders = await primary<{ state: string }[]>`SELECT state FROM pg_stat_replication`;
    expect(senders.map((s) => s.state)).toEqual(['streaming']);
    const [t] = await replica<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.api_keys`;
    expect(t!.n).toBe(0);
  });

  it('shows a row committed on the primary once it has caught up, and refuses writes as read-only', async () => {
    const message = `replicated ${crypto.randomUUID()}`;
    await primary`
      INSERT INTO logging.system_logs (id, service, level, message, "timestamp", retention_class)
      VALUES (gen_random_uuid(), 'execution', 'INFO', ${message}, now(), 'standard')`;
    await pair.caughtUp();
    const rows = await replica<{ message: string }[]>`SELECT message FROM logging.system_logs WHERE message = ${message}`;
    expect(rows).toHaveLength(1);
    const write = replica`DELETE FROM logging.system_logs`.then(
      () => undefined,
      (e: unknown) => e,
    );
    const error = (await write) as { code?: string };
    expect(error.code).toBe('25006'); // read_only_sql_transaction
    expect(isTransientDbError(error)).toBe(true);
  });

  it('can be stopped and started again while the primary takes writes, and catches up', async () => {
    await pair.replica.stop();
    const message = `while the replica was down ${crypto.randomUUID()}`;
    await primary`
      INSERT INTO logging.system_logs (id, service, level, message, "timestamp", retention_class)
      VALUES (gen_random_uuid(), 'execution', 'INFO', ${message}, now(), 'standard')`;
    await pair.replica.start();
    await pair.caughtUp();
    const fresh = createSql(pair.replica.url, { max: 1 });
    try {
      expect(await fresh`SELECT 1 FROM logging.system_logs WHERE message = ${message}`).toHaveLength(1);
    } finally {
      await fresh.end();
    }
  }, 60_000);
});
