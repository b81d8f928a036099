/**
 * Reads from a real streaming replica (shared/dev/replica.ts) on a pooled host: the query API
 * reads the replica (shown by pausing its replay: a row the primary has is not seen), ingest and
 * the live tail stay on the primary, and reads fall back to the primary while the replica is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPooledHost, type PooledHost } from '../../functions/pooled';
import { createKey } from '../../shared/db/api-keys';
import { createSql, type Sql } from '../../shared/db/client';
import { startReplicaPair, type ReplicaPair } from '../../shared/dev/replica';

let pair: ReplicaPair;
let host: PooledHost;
let primary: Sql;
let replica: Sql;
let key: string;
const service = 'execution';

beforeAll(async () => {
  pair = await startReplicaPair('read-replica');
  primary = createSql(pair.primary.url, { max: 1 });
  replica = createSql(pair.replica.url, { max: 1 });
  host = createPooledHost({ DATABASE_URL: pair.primary.url, READ_DATABASE_URL: pair.replica.url, DB_POOL_MAX: '2' });
  key = (await createKey(primary, { service, scopes: ['ingest', 'read'], name: 'replica' })).key;
  await pair.caughtUp();
}, 120_000);

afterAll(async () => {
  await host?.close(2_000);
  await Promise.all([primary?.end({ timeout: 1 }), replica?.end({ timeout: 1 })]);
  await pair?.stop();
});

const headers = () => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const ingest = (message: string) =>
  host.app.request('/v1/ingest', {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({ logs: [{ service, level: 'ERROR', message }] }),
  });
async function messages(): Promise<{ source: string | null; messages: string[] }> {
  const res = await host.app.request(`/v1/logs?service=${service}&limit=1000`, { headers: headers() });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { logs: { message: string }[] };
  return { source: res.headers.get('x-read-from'), messages: body.logs.map((l) => l.message) };
}

describe('the query API on a read replica', () => {
  it('reads from the replica: while its replay is paused it does not see what the primary just stored', async () => {
    expect((await ingest('before the pause')).status).toBe(200);
    await pair.caughtUp();
    expect(await messages()).toEqual({ source: 'replica', messages: ['before the pause'] });

    await replica`SELECT pg_wal_replay_pause()`;
    try {
      expect((await ingest('during the pause')).status).toBe(200); // ingest writes to the primary
      expect((await messages()).messages).not.toContain('during the pause');
      const [row] = await primary<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE message = 'during the pause'`;
      expect(row!.n).toBe(1);
    } finally {
      await replica`SELECT pg_wal_replay_resume()`;
    }
    await pair.caughtUp();
    expect((await messages()).messages).toContain('during the pause');
  });

  it('keeps ingesting while the replica is down, and reads fall back to the primary', async () => {
    await pair.replica.stop();
    try {
      expect((await ingest('replica down')).status).toBe(200);
      const read = await messages();
      expect(read.source).toBe('primary');
      expect(read.messages).toContain('replica down');
      const trace = await host.app.request('/v1/stats/errors?window=1h', { headers: headers() });
      expect(trace.status).toBe(200);
      expect(trace.headers.get('x-read-from')).toBe('primary');
    } finally {
      await pair.replica.start();
    }
    await pair.caughtUp();
    expect((await messages()).source).toBe('replica');
  }, 60_000);
});
