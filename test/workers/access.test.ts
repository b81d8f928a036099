/**
 * Access limits on the real Worker and Postgres: per-key request and record rates, daily quotas,
 * expiry and rotation, the audit event type, and the shape limits on `data`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../shared/api/errors';
import { createKey, rotateKey } from '../../shared/db/api-keys';
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import worker from '../../functions/worker';
import { revokeKey } from '../../shared/db/api-keys';
import { BASE, postIngest, testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());

const logs = (service: string, n: number, tag = 'm') => ({
  logs: Array.from({ length: n }, (_, i) => ({ service, level: 'INFO', message: `${tag}${i}` })),
});
const stored = async (service: string) =>
  (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE service = ${service}`)[0]!.n;

describe('rate limits per key', () => {
  it('429 RATE_LIMITED with Retry-After and RateLimit headers past the request rate; nothing stored; other keys unaffected', async () => {
    const service = uniqueService('flood');
    const { key } = await createKey(sql, { service, rateRequestsPerSecond: 1 }); // a burst of 2 requests
    const other = uniqueService('calm');
    const { key: otherKey } = await createKey(sql, { service: other, rateRequestsPerSecond: 1 });
    expect((await postIngest(logs(service, 2, 'a'), { key })).status).toBe(200);
    expect((await postIngest(logs(service, 2, 'b'), { key })).status).toBe(200);
    const refused = await postIngest(logs(service, 2, 'c'), { key });
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as ErrorBody;
    expect(body).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/1 requests per second/) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit-limit')).toBe('1');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-policy')).toMatch(/^1;w=1;burst=2/);
    expect(await stored(service)).toBe(4);
    // Refused again at once, before the body is read: even a body that is not JSON gets the 429.
    expect((await postIngest(null, { key, raw: '{not json' })).status).toBe(429);
    expect((await postIngest(logs(other, 1), { key: otherKey })).status).toBe(200);
  });

  it('OTLP: 429 as a google.rpc.Status RESOURCE_EXHAUSTED with Retry-After, which the SDKs retry', async () => {
    const service = uniqueService('otlp');
    const { key } = await createKey(sql, { service, rateRequestsPerSecond: 1 });
    const body = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeLogs: [{ logRecords: [{ severityNumber: 9, body: { stringValue: 'from otel' } }] }],
        },
      ],
    });
    const send = () =>
      exports.default.fetch(
        new Request(`${BASE}/otlp/v1/logs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        }),
      );
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(200);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ code: 8, message: expect.stringMatching(/requests per second/) });
    expect(await stored(service)).toBe(2);
  });

  it('refuses a batch larger than the records left in the bucket, and takes it once the bucket refills', async () => {
    const service = uniqueService('records');
    // 1,000 records/s: the burst is the largest request (8,192 OTLP records), then 1,000 a second.
    const { key } = await createKey(sql, { service, rateRecordsPerSecond: 1000 });
    const started = Date.now();
    let refused: Response | undefined;
    let sent = 0;
    for (let i = 0; i < 20 && !refused; i++) {
      const res = await postIngest(logs(service, 1000, `r${i}-`), { key });
      if (res.status === 429) refused = res;
      else sent += 1000;
    }
    const elapsedS = (Date.now() - started) / 1000;
    // What passed is the burst plus what refilled meanwhile, to within one batch.
    expect(sent).toBeGreaterThanOrEqual(8000);
    expect(sent).toBeLessThanOrEqual(8192 + 1000 * elapsedS);
    expect(refused?.status).toBe(429);
    if (!refused) throw new Error('never refused');
    expect(((await refused.json()) as ErrorBody).message).toMatch(/1000 records per second \(bursts of 8192\)/);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(2);
    expect(await stored(service)).toBe(sent);
    await new Promise((r) => setTimeout(r, wait * 1000 + 50));
    expect((await postIngest(logs(service, 1000, 'later'), { key })).status).toBe(200);
  }, 30_000);
});

describe('daily quota', () => {
  it('429 QUOTA_EXCEEDED until the next UTC day, nothing stored; a batch that still fits passes; usage counted', async () => {
    const service = uniqueService('quota');
    const { id, key } = await createKey(sql, { service, dailyQuota: 5 });
    expect((await postIngest(logs(service, 3, 'a'), { key })).status).toBe(200);
    const over = await postIngest(logs(service, 3, 'b'), { key });
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringMatching(/daily quota of 5 records .* next UTC midnight/),
    });
    const untilMidnight =
      (Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) - Date.now()) / 1000;
    expect(Math.abs(Number(over.headers.get('retry-after')) - untilMidnight)).toBeLessThan(5);
    expect((await postIngest(logs(service, 2, 'c'), { key })).status).toBe(200);
    expect((await postIngest(logs(service, 1, 'd'), { key })).status).toBe(429);
    expect(await stored(service)).toBe(5);
    const [usage] = await sql<{ records: string }[]>`SELECT records::text FROM logging.key_usage WHERE key_id = ${id}`;
    expect(usage!.records).toBe('5');
  });
});

describe('key lifecycle', () => {
  it('an expired key gets 401 saying it expired', async () => {
    const service = uniqueService('exp');
    const { id, key } = await createKey(sql, { service, expiresAt: new Date(Date.now() - 1000) });
    const res = await postIngest(logs(service, 1), { key });
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).message).toMatch(/expired at/);
    expect((await postIngest(logs(service, 1), { key })).status).toBe(401);
    // Its expiry is audited once, by the first request that found it.
    const audited =
      await sql`SELECT 1 FROM logging.system_logs WHERE event_type = 'audit' AND data->>'action' = 'key.expired' AND data->>'target' = ${id}`;
    expect(audited).toHaveLength(1);
  });

  it('rotation: the new key works, the old one until the grace period ends', async () => {
    const service = uniqueService('rot');
    const { id, key: oldKey } = await createKey(sql, { service, name: 'svc', dailyQuota: 100 });
    const rotated = (await rotateKey(sql, id, 2))!;
    expect((await postIngest(logs(service, 1, 'old'), { key: oldKey })).status).toBe(200);
    expect((await postIngest(logs(service, 1, 'new'), { key: rotated.key })).status).toBe(200);
    const [row] = await sql<{ name: string; daily_quota: string; rotated_to: string }[]>`
      SELECT n.name, n.daily_quota::text, o.rotated_to::text FROM logging.api_keys n JOIN logging.api_keys o ON o.id = ${id} WHERE n.id = ${rotated.id}`;
    expect(row).toEqual({ name: 'svc', daily_quota: '100', rotated_to: rotated.id });
    await new Promise((r) => setTimeout(r, 2100));
    const late = await postIngest(logs(service, 1, 'late'), { key: oldKey });
    expect(late.status).toBe(401);
    expect((await postIngest(logs(service, 1, 'still'), { key: rotated.key })).status).toBe(200);
  });
});

describe('what a record may carry', () => {
  it('refuses event_type "audit" and data too deep or too wide per record; the rest of the batch is stored', async () => {
    const service = uniqueService('shape');
    const { key } = await createKey(sql, { service });
    // Written as text: JSON.stringify itself cannot nest 10,000 levels.
    const deep = `${'['.repeat(10_000)}"leaf"${']'.repeat(10_000)}`;
    const wide = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i]));
    let ok: unknown = 'leaf';
    for (let i = 0; i < 120; i++) ok = { n: ok }; // as deep as OTLP clients go, and more
    const record = (r: object) => JSON.stringify(r);
    const raw = `{"logs":[${record({ service, level: 'INFO', message: 'audit spoof', event_type: 'audit' })},${record({ service, level: 'INFO', message: 'deep', data: { deep: 0 } }).replace('"deep":0', `"deep":${deep}`)},${record({ service, level: 'INFO', message: 'wide', data: wide })},${record({ service, level: 'INFO', message: 'fine', data: { ok } })}]}`;
    const res = await postIngest(null, { key, raw });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accepted: number; rejected: { index: number; issues: { code: string }[] }[] };
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => [r.index, r.issues[0]!.code])).toEqual([
      [0, 'reserved_event_type'],
      [1, 'too_deep'],
      [2, 'too_many_members'],
    ]);
    expect(await stored(service)).toBe(1);
  });
});

describe('keys through the API, and the audit trail', () => {
  const call = (method: string, path: string, key: string, body?: unknown) =>
    exports.default.fetch(
      new Request(`${BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      }),
    );
  const trail = async (target: string) =>
    (
      await sql<{ action: string; actor: string }[]>`
        SELECT data->>'action' AS action, data->>'actor' AS actor FROM logging.system_logs
        WHERE event_type = 'audit' AND data->>'target' = ${target} ORDER BY "timestamp"`
    ).map((r) => [r.action, r.actor]);

  it('an admin key creates, lists, rotates and revokes keys; each change is audited under its id; others get 403', async () => {
    const admin = await createKey(sql, { service: '*', scopes: ['admin'], name: 'ops' });
    const service = uniqueService('api');
    const created = await call('POST', '/v1/keys', admin.key, {
      service,
      rate_records_per_second: 2000,
      daily_quota: 10,
      expires_in_days: 30,
    });
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect((await postIngest(logs(service, 4), { key })).status).toBe(200);

    // Its last use is noted after the response, so it is polled for.
    let listed: { keys: Record<string, unknown>[] } = { keys: [] };
    for (let i = 0; i < 40; i++) {
      listed = (await (await call('GET', '/v1/keys', admin.key)).json()) as typeof listed;
      if (listed.keys.find((k) => k.id === id)?.last_used_at) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const listedKey = listed.keys.find((k) => k.id === id)!;
    expect(listedKey).toMatchObject({ service, rate_records_per_second: 2000, daily_quota: 10, used_today: 4 });
    expect(Date.now() - Date.parse(listedKey.last_used_at as string)).toBeLessThan(60_000);

    const rotated = await call('POST', `/v1/keys/${id}/rotate`, admin.key, { grace_seconds: 60 });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { id: string; key: string; old_key_valid_until: string };
    expect(Date.parse(next.old_key_valid_until) - Date.now()).toBeLessThanOrEqual(60_000);
    expect((await call('DELETE', `/v1/keys/${next.id}`, admin.key)).status).toBe(200);
    expect((await call('DELETE', `/v1/keys/${next.id}`, admin.key)).status).toBe(404);
    expect(await trail(id)).toEqual([
      ['key.created', admin.id],
      ['key.rotated', admin.id],
    ]);
    expect(await trail(next.id)).toEqual([['key.revoked', admin.id]]);
    const reader = await createKey(sql, { service: '*', scopes: ['read'] });
    expect((await call('GET', '/v1/keys', reader.key)).status).toBe(403);
  });

  it('alerting changes are audited; the trail is read through the query API', async () => {
    const admin = await createKey(sql, { service: '*', scopes: ['admin', 'read'] });
    const silence = {
      matchers: [{ label: 'service', value: uniqueService('quiet') }],
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'maintenance',
    };
    const res = await call('POST', '/v1/alerts/silences', admin.key, silence);
    expect(res.status).toBeLessThan(300);
    expect(await trail('/v1/alerts/silences')).toContainEqual(['alerting.post', admin.id]);
    const read = (await (await call('GET', '/v1/logs?event_type=audit&limit=1000', admin.key)).json()) as {
      logs: { data: { actor?: string } }[];
    };
    expect(read.logs.some((l) => l.data.actor === admin.id)).toBe(true);
  });
});

describe('while the database is down', () => {
  const downEnv = {
    ...env,
    QSTASH_TOKEN: 'x',
    QSTASH_URL: 'http://127.0.0.1:1',
    HYPERDRIVE: { ...env.HYPERDRIVE, connectionString: 'postgres://postgres:postgres@127.0.0.1:1/postgres' },
  };
  async function postDown(key: string, body: unknown) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${BASE}/v1/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      }),
      downEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it('a key verified before the outage keeps working through it, even once revoked; limits fail open; an expired key is refused', async () => {
    const service = uniqueService('outage');
    // Revoked after it was verified: this isolate still trusts it (up to an hour) while it cannot ask.
    const revoked = await createKey(sql, { service });
    expect((await postIngest(logs(service, 1), { key: revoked.key })).status).toBe(200);
    await revokeKey(sql, revoked.id);
    const passed = await postDown(revoked.key, logs(service, 1));
    expect(passed.status).toBe(503); // past auth and limits: the database and the queue cannot take it
    expect(((await passed.json()) as ErrorBody).message).toMatch(/could not be queued/);

    // Its request budget spent (a burst of 2): with the buckets out of reach, the limit lets it through.
    const limited = await createKey(sql, { service, rateRequestsPerSecond: 1 });
    expect((await postIngest(logs(service, 1), { key: limited.key })).status).toBe(200);
    expect((await postIngest(logs(service, 1), { key: limited.key })).status).toBe(200);
    expect((await postDown(limited.key, logs(service, 1))).status).toBe(503);

    // Expiry is checked against the time the key carries, not the database: refused either way.
    const expiring = await createKey(sql, { service, expiresAt: new Date(Date.now() + 1500) });
    expect((await postIngest(logs(service, 1), { key: expiring.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await postDown(expiring.key, logs(service, 1));
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as ErrorBody).message).toMatch(/expired/);

    // A key never verified by this isolate cannot be checked: 503, retry later.
    const unknown = await createKey(sql, { service });
    expect((await postDown(unknown.key, logs(service, 1))).status).toBe(503);
  });
});
