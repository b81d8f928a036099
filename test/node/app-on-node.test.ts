/**
 * createApp(deps) outside Workers: the same app in plain Node with a shared postgres.js pool
 * (release does nothing) and a `defer` that tracks promises, called without any env or execution
 * context. Nothing Workers-only may be reached.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../functions/app';
import type { LogsPage } from '../../functions/routes/logs';
import type { ErrorBody } from '../../shared/api';
import { createKey } from '../../shared/db/api-keys';
import { createSql, type Sql } from '../../shared/db/client';
import { parseSettings } from '../../shared/env';

const pool: Sql = createSql(inject('databaseUrl'), { max: 4 });
const deferred: Promise<unknown>[] = [];
let released = 0;
const app = createApp({
  settings: parseSettings({ MAX_RECORDS_PER_REQUEST: '10' }),
  database: {
    acquire: () => pool,
    release: async () => void released++,
  },
  defer: (_c, promise) => void deferred.push(promise),
});
const service = `node_${crypto.randomUUID().slice(0, 8)}`;
let key: string;

beforeAll(async () => {
  key = (await createKey(pool, { service, scopes: ['ingest', 'read'] })).key;
});

afterAll(async () => {
  await Promise.allSettled(deferred);
  await pool.end();
});

describe('createApp on a long-lived Node host', () => {
  it('answers health, ingest and a read through the shared pool, with the work after the response deferred', async () => {
    expect((await app.request('/health')).status).toBe(200);
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const logs = [{ service, level: 'INFO', message: 'from node' }];
    const ingest = await app.request('/v1/ingest', { method: 'POST', headers: auth, body: JSON.stringify({ logs }) });
    expect(ingest.status).toBe(200);
    expect(await ingest.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    const read = await app.request(`/v1/logs?service=${service}`, { headers: auth });
    expect(((await read.json()) as LogsPage).logs.map((l) => l.message)).toEqual(['from node']);
    await Promise.all(deferred);
    // One per request (the logger's flush, then the release), and one note of the key's last use
    // at its first verification.
    expect(deferred.length).toBe(4);
    expect(released).toBe(3);
  });

  it('applies the settings it was given, not the defaults', async () => {
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const logs = Array.from({ length: 11 }, () => ({ service, level: 'INFO', message: 'x' }));
    const res = await app.request('/v1/ingest', { method: 'POST', headers: auth, body: JSON.stringify({ logs }) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).message).toMatch(/limit is 10/);
  });
});
