/**
 * The per-key limits where they hold across instances: logging.charge_key (the store every host
 * shares) across a UTC midnight with a controlled clock, and a flood against a pooled Node host.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPooledHost } from '../../functions/pooled';
import { chargeKey } from '../../shared/access';
import { createKey } from '../../shared/db/api-keys';
import { createSql, type Sql } from '../../shared/db/client';
import { flood, trickle } from '../../shared/dev/flood';

const url = inject('databaseUrl');
let sql: Sql;
beforeAll(() => {
  sql = createSql(url, { max: 4 });
});
afterAll(() => sql.end());

const rates = { recordsPerSecond: 1000, recordBurst: 2000, requestsPerSecond: 100, requestBurst: 200 };

describe('logging.charge_key', () => {
  it('a daily quota resets at UTC midnight, by the clock given, and nothing is charged for a refusal', async () => {
    const { id } = await createKey(sql, { service: 'quota_clock' });
    const at = (iso: string) => new Date(iso);
    const charge = (records: number, now: string) => chargeKey(sql, { keyId: id, records, now: at(now), ...rates, dailyQuota: 100 });
    expect(await charge(60, '2026-03-01T23:59:50Z')).toMatchObject({ allowed: true, usedToday: 60 });
    const refused = await charge(60, '2026-03-01T23:59:55Z');
    expect(refused).toMatchObject({ allowed: false, reason: 'quota', usedToday: 60 });
    expect(refused.retryAfterMs).toBe(5000); // to 2026-03-02T00:00:00Z
    expect(await charge(40, '2026-03-01T23:59:56Z')).toMatchObject({ allowed: true, usedToday: 100 });
    expect(await charge(60, '2026-03-02T00:00:01Z')).toMatchObject({ allowed: true, usedToday: 60 });
    const days = await sql<{ day: string; records: string }[]>`
      SELECT day::text, records::text FROM logging.key_usage WHERE key_id = ${id} ORDER BY day`;
    expect(days).toEqual([
      { day: '2026-03-01', records: '100' },
      { day: '2026-03-02', records: '60' },
    ]);
  });

  it('a token bucket: the burst at once, then the rate; concurrent charges never overspend it', async () => {
    const { id } = await createKey(sql, { service: 'bucket' });
    const t0 = Date.parse('2026-03-05T10:00:00Z');
    const charge = (records: number, ms: number) =>
      chargeKey(sql, { keyId: id, records, now: new Date(t0 + ms), ...rates, dailyQuota: null });
    // 40 charges of 100 at the same instant, concurrently: exactly the burst (2,000) passes.
    const results = await Promise.all(Array.from({ length: 40 }, () => charge(100, 0)));
    expect(results.filter((r) => r.allowed)).toHaveLength(20);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused).toMatchObject({ reason: 'records', retryAfterMs: 100 });
    expect((await charge(500, 499)).allowed).toBe(false); // 499 tokens refilled
    expect((await charge(500, 500)).allowed).toBe(true);
  });
});

describe('a flood from one key on a pooled host', () => {
  let host: ReturnType<typeof createPooledHost>;
  let server: ReturnType<typeof serve>;
  let base: string;

  beforeAll(async () => {
    host = createPooledHost({ DATABASE_URL: url, DB_POOL_MAX: '8' });
    const { port } = await new Promise<AddressInfo>((resolve) => {
      server = serve({ fetch: (req) => host.app.fetch(req), port: 0, hostname: '127.0.0.1' }, resolve);
    });
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await host?.close(5_000);
  });

  it('the flooding key gets 429s and stores about its limit; the other key keeps every record and its latency', async () => {
    const flooder = `flood_${crypto.randomUUID().slice(0, 6)}`;
    const other = `calm_${crypto.randomUUID().slice(0, 6)}`;
    const { key: floodKey } = await createKey(sql, { service: flooder, rateRecordsPerSecond: 1000 });
    const { key: calmKey } = await createKey(sql, { service: other });
    const unloaded = await trickle(base, calmKey, other, 2000);
    const {
      loaded,
      seconds: elapsed,
      refused,
      withRetryAfter,
    } = await flood(base, {
      floodKey,
      floodService: flooder,
      calmKey,
      calmService: other,
      seconds: 5,
    });
    expect(refused).toBeGreaterThan(0);
    expect(withRetryAfter).toBe(refused);
    const flooded = (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE service = ${flooder}`)[0]!.n;
    // The stated accuracy: at most the burst (8,192, the largest request) plus the rate over the
    // time, and at least the rate over the time less one batch. The store is one row per key.
    console.log(
      `flood: ${flooded} records stored in ${elapsed.toFixed(1)} s at 1,000/s (burst 8,192); ${refused} requests refused; calm p95 ${unloaded.p95.toFixed(1)} → ${loaded.p95.toFixed(1)} ms`,
    );
    expect(flooded).toBeLessThanOrEqual(8192 + 1000 * elapsed);
    expect(flooded).toBeGreaterThanOrEqual(1000 * 5 - 500);
    expect(loaded.statuses.every((s) => s === 200)).toBe(true);
    const calmStored = (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE service = ${other}`)[0]!.n;
    expect(calmStored).toBe(50 * (unloaded.statuses.length + loaded.statuses.length));
    expect(loaded.p95).toBeLessThanOrEqual(Math.max(3 * unloaded.p95, 30));
  }, 60_000);
});

describe('CORS', () => {
  it('answers without CORS headers by default, and only to the allowed origins when configured', async () => {
    const plain = createPooledHost({ DATABASE_URL: url });
    const configured = createPooledHost({ DATABASE_URL: url, CORS_ALLOWED_ORIGINS: 'https://ops.example.com, https://noc.example.com' });
    try {
      const from = (origin: string) => ({ headers: { origin } });
      expect((await plain.app.request('/health', from('https://ops.example.com'))).headers.get('access-control-allow-origin')).toBeNull();
      expect((await configured.app.request('/health', from('https://ops.example.com'))).headers.get('access-control-allow-origin')).toBe(
        'https://ops.example.com',
      );
      expect(
        (await configured.app.request('/health', from('https://evil.example.com'))).headers.get('access-control-allow-origin'),
      ).toBeNull();
      const preflight = await configured.app.request('/v1/logs', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://noc.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://noc.example.com');
    } finally {
      await plain.close(5_000);
      await configured.close(5_000);
    }
  });
});
