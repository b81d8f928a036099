/**
 * DB_QUEUE_TIMEOUT_MS (postgres.js 4's `queue_timeout`): a query that finds no connection of the
 * pool free within it rejects with QUEUE_TIMEOUT, never sent, which counts as transient; so ingest
 * on a pooled host whose pool is held answers 202 (queued to QStash, stored once the pool frees)
 * instead of waiting for it. A real Postgres, the local QStash, createPooledHost on @hono/node-server.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPooledHost } from '../../functions/pooled';
import { createKey } from '../../shared/db/api-keys';
import { createSql, type Sql, type TransactionSql } from '../../shared/db/client';
import { isConnectionLost, isTransientDbError } from '../../shared/db/transient';
import { DEV_CREDENTIALS } from '../../shared/dev/qstash/signing';
import { startLocalQStash, type LocalQStash } from '../../shared/dev/qstash/server';

const url = inject('databaseUrl');
let admin: Sql;

/** Holds one connection of `pool` in a transaction for `seconds` (resolves once it has it). */
async function holdConnection(pool: Sql, seconds: number): Promise<{ done: Promise<unknown> }> {
  let inside!: () => void;
  const held = new Promise<void>((r) => (inside = r));
  const done = pool.begin(async (tx: TransactionSql) => {
    inside();
    await tx`SELECT pg_sleep(${seconds})`;
  });
  await Promise.race([held, done]);
  return { done };
}

/** What `promise` settles to, and how long it took in ms. */
async function timed(promise: Promise<unknown>): Promise<{ value?: unknown; error?: unknown; ms: number }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { value, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

beforeAll(() => {
  admin = createSql(url, { max: 2 });
});

afterAll(async () => {
  await admin.end();
});

describe('the pool queue timeout', () => {
  it('rejects a query that waits longer than it for a connection with QUEUE_TIMEOUT, a transient error', async () => {
    const pool = createSql(url, { max: 1, queueTimeoutMs: 300 });
    try {
      await pool`SELECT 1`;
      // A transaction has its connection to itself; a plain query would not (see the next test).
      const hold = await holdConnection(pool, 2);
      const { error, ms } = await timed(pool`SELECT 1`);
      expect(error).toMatchObject({ code: 'QUEUE_TIMEOUT' });
      expect(isTransientDbError(error)).toBe(true);
      expect(isConnectionLost(error)).toBe(false); // busy, not gone
      expect(ms).toBeGreaterThanOrEqual(280);
      expect(ms).toBeLessThan(1500); // well before the transaction lets go of the connection
      await hold.done;
      expect(await pool`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('does not limit a query pipelined behind a slow one on a busy connection (statement_timeout does)', async () => {
    const pool = createSql(url, { max: 1, queueTimeoutMs: 300 });
    try {
      await pool`SELECT 1`;
      const slow = timed(pool`SELECT pg_sleep(1)`); // sent now (a query is sent once awaited)
      const quick = await timed(pool`SELECT 1 AS one`);
      expect((await slow).error).toBeUndefined();
      expect(quick.error).toBeUndefined();
      expect(quick.value).toEqual([{ one: 1 }]);
      expect(quick.ms).toBeGreaterThanOrEqual(900); // it waited on the connection, behind the slow one
    } finally {
      await pool.end();
    }
  });
});

describe('ingest on a pooled host whose pool is held', () => {
  let qstash: LocalQStash;
  let host: ReturnType<typeof createPooledHost>;
  let server: ReturnType<typeof serve>;

  beforeAll(async () => {
    qstash = await startLocalQStash({ retryDelayMs: () => 300 });
    const { port } = await new Promise<AddressInfo>((resolve) => {
      server = serve({ fetch: (req) => host.app.fetch(req), port: 0, hostname: '127.0.0.1' }, resolve);
    });
    host = createPooledHost({
      DATABASE_URL: url,
      DB_POOL_MAX: '1',
      DB_QUEUE_TIMEOUT_MS: '300',
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: DEV_CREDENTIALS.token,
      QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await host?.close(5_000);
    await qstash?.stop();
  });

  it('answers 202 within the queue timeout (the batch queued to QStash), and the batch is stored once the pool frees', async () => {
    expect(host.settings.DB_QUEUE_TIMEOUT_MS).toBe(300);
    const service = `queue_${crypto.randomUUID().slice(0, 8)}`;
    const { key } = await createKey(admin, { service, scopes: ['ingest'] });
    const post = async (message: string) =>
      host.app.request('/v1/ingest', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ logs: [{ service, level: 'INFO', message }] }),
      });
    expect((await post('before')).status).toBe(200); // and the key is verified (cached) now

    const hold = await holdConnection(host.pool, 2);
    const before = qstash.messages.length;
    const { value, ms } = await timed(post('while held'));
    const res = value as Response;
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 1, queued: 1 });
    expect(ms).toBeLessThan(1500);
    expect(qstash.messages.length - before).toBe(1);

    await hold.done;
    await qstash.idle();
    expect(qstash.messages.slice(before).map((m) => m.state)).toEqual(['delivered']);
    const rows = await admin<{ message: string }[]>`
      SELECT message FROM logging.system_logs WHERE service = ${service} ORDER BY message`;
    expect(rows.map((r) => r.message)).toEqual(['before', 'while held']);
  }, 30_000);
});
