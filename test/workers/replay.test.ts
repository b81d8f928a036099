import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import type { ReplayResponse } from '../../functions/routes/replay';
import type { ErrorBody } from '../../shared/api/errors';
import { DEV_CREDENTIALS, signRequest } from '../../shared/dev/qstash/signing';
import { splitBatch } from '../../shared/qstash/publish';
import type { LogRow } from '../../shared/ingest';
import { makeKey, testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());
const REPLAY = 'http://logs.test/v1/replay';
const FAILED = 'http://logs.test/v1/replay/failed';

function rows(service: string, n: number): LogRow[] {
  return Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    service,
    level: 'INFO',
    message: `replayed ${i}`,
    data: { i },
    correlation_id: null,
    event_type: null,
  }));
}

async function post(url: string, body: string, signature?: string, app?: { env: typeof env }) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'upstash-message-id': `msg_${crypto.randomUUID()}` };
  if (signature !== undefined) headers['upstash-signature'] = signature;
  const request = new Request(url, { method: 'POST', headers, body });
  if (!app) return exports.default.fetch(request);
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, app.env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function stored(ids: string[]): Promise<number> {
  const [r] = await sql<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM logging.system_logs WHERE id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(ids)}::text::jsonb))::uuid)`;
  return r!.n;
}

describe('POST /v1/replay', () => {
  it('stores a signed batch once, however often and however concurrently it is delivered', async () => {
    const batch = rows(uniqueService('execution'), 5);
    const body = JSON.stringify({ v: 1, logs: batch, metrics: [] });
    const sign = () => signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body });
    const first = await post(REPLAY, body, await sign());
    expect(first.status).toBe(200);
    expect((await first.json()) as ReplayResponse).toEqual({ stored: 5, duplicates: 0 });
    const again = await Promise.all([post(REPLAY, body, await sign()), post(REPLAY, body, await sign())]);
    for (const r of again) expect(await r.json()).toEqual({ stored: 0, duplicates: 5 });
    expect(await stored(batch.map((r) => r.id))).toBe(5);
  });

  it('accepts a token signed with the next key (key rotation)', async () => {
    const batch = rows(uniqueService('risk'), 1);
    const body = JSON.stringify({ v: 1, logs: batch, metrics: [] });
    const res = await post(REPLAY, body, await signRequest({ key: DEV_CREDENTIALS.nextSigningKey, url: REPLAY, body }));
    expect(res.status).toBe(200);
    expect(await stored(batch.map((r) => r.id))).toBe(1);
  });

  describe('refuses, writing nothing', () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, (body: string) => Promise<{ body?: string; signature?: string; url?: string }>][] = [
      ['header missing', async () => ({ signature: undefined })],
      ['a wrong key', async (body) => ({ signature: await signRequest({ key: 'sig_not_the_key', url: REPLAY, body }) })],
      [
        'one byte of the body changed',
        async (body) => ({
          signature: await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body }),
          body: body.replace('replayed 0', 'replayed 1'),
        }),
      ],
      [
        're-serialised JSON',
        async (body) => ({
          signature: await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body }),
          body: JSON.stringify(JSON.parse(body), null, 1),
        }),
      ],
      [
        'a destination mismatch',
        async (body) => ({
          signature: await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: 'http://evil.test/v1/replay', body }),
        }),
      ],
      [
        'an expired token',
        async (body) => ({ signature: await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body, now: now - 3600 }) }),
      ],
      [
        'a token not yet valid',
        async (body) => ({ signature: await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body, now: now + 3600 }) }),
      ],
    ];
    it.each(cases)('%s', async (_name, make) => {
      const batch = rows(uniqueService('execution'), 2);
      const body = JSON.stringify({ v: 1, logs: batch, metrics: [] });
      const m = await make(body);
      const res = await post(REPLAY, m.body ?? body, m.signature);
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).code).toBe('UNAUTHORIZED');
      expect(await stored(batch.map((r) => r.id))).toBe(0);
    });

    it('signing keys unset (fail closed)', async () => {
      const batch = rows(uniqueService('execution'), 2);
      const body = JSON.stringify({ v: 1, logs: batch, metrics: [] });
      const { QSTASH_CURRENT_SIGNING_KEY: _a, QSTASH_NEXT_SIGNING_KEY: _b, ...unkeyed } = env;
      const res = await post(REPLAY, body, await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body }), {
        env: unkeyed as typeof env,
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).code).toBe('REPLAY_DISABLED');
      expect(await stored(batch.map((r) => r.id))).toBe(0);
    });
  });

  it('answers 503 while the database is down, so QStash retries', async () => {
    const body = JSON.stringify({ v: 1, logs: rows(uniqueService('execution'), 1), metrics: [] });
    const downEnv = { ...env, HYPERDRIVE: { ...env.HYPERDRIVE, connectionString: 'postgres://postgres:postgres@127.0.0.1:1/postgres' } };
    const res = await post(REPLAY, body, await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body }), {
      env: downEnv,
    });
    expect(res.status).toBe(503);
  });

  it('keeps a batch that can never be stored in dead_letters and answers 200', async () => {
    const body = JSON.stringify({ v: 1, logs: [{ id: 'not-a-uuid', service: 'x', level: 'LOUD', message: 1 }], metrics: [] });
    const res = await post(REPLAY, body, await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: REPLAY, body }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ deadLettered: true });
    const [row] = await sql<{ kind: string; reason: string }[]>`SELECT kind, reason FROM logging.dead_letters WHERE payload = ${body}`;
    expect(row).toMatchObject({ kind: 'unstorable' });
    expect(row!.reason).toMatch(/records refused/);
  });
});

describe('POST /v1/replay/failed', () => {
  it('keeps the source batch of an exhausted message once, however often the callback comes', async () => {
    const source = JSON.stringify({ v: 1, logs: rows(uniqueService('execution'), 2), metrics: [] });
    const sourceMessageId = `msg_${crypto.randomUUID()}`;
    const body = JSON.stringify({
      status: 503,
      body: btoa('{"code":"DATABASE_UNAVAILABLE"}'),
      retried: 5,
      maxRetries: 5,
      dlqId: 'dlq_1',
      sourceMessageId,
      url: REPLAY,
      method: 'POST',
      sourceBody: btoa(source),
    });
    for (let i = 0; i < 2; i++) {
      const res = await post(FAILED, body, await signRequest({ key: DEV_CREDENTIALS.currentSigningKey, url: FAILED, body }));
      expect(res.status).toBe(200);
    }
    const kept = await sql<
      { kind: string; payload: string; reason: string }[]
    >`SELECT kind, payload, reason FROM logging.dead_letters WHERE source_message_id = ${sourceMessageId}`;
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ kind: 'retries_exhausted', payload: source });
    expect(kept[0]!.reason).toMatch(/after 5 retries; last answer 503/);
  });

  it('refuses an unsigned callback', async () => {
    const res = await post(FAILED, '{}');
    expect(res.status).toBe(401);
  });
});

describe('ingest when the database and the queue are both down', () => {
  it('answers 503 with Retry-After so the client keeps the batch', async () => {
    const service = uniqueService('execution');
    const key = await makeKey(service);
    // Verify the key once while the database is up (it is then trusted during the outage).
    await exports.default.fetch(
      new Request('http://logs.test/v1/ingest', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: '{"logs":[]}',
      }),
    );
    const downEnv = {
      ...env,
      QSTASH_TOKEN: 'x',
      QSTASH_URL: 'http://127.0.0.1:1',
      HYPERDRIVE: { ...env.HYPERDRIVE, connectionString: 'postgres://postgres:postgres@127.0.0.1:1/postgres' },
    };
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request('http://logs.test/v1/ingest', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ logs: [{ service, level: 'INFO', message: 'x' }] }),
      }),
      downEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as ErrorBody).message).toMatch(/could not be queued/);
  });
});

describe('splitBatch', () => {
  it('keeps every row, in order, in messages no larger than the limit', () => {
    const all = rows('execution', 300);
    const bodies = splitBatch(all, [], 10_000);
    expect(bodies.length).toBeGreaterThan(3);
    for (const b of bodies) expect(new TextEncoder().encode(b).length).toBeLessThanOrEqual(10_000);
    expect(bodies.flatMap((b) => (JSON.parse(b) as { logs: LogRow[] }).logs.map((r) => r.id))).toEqual(all.map((r) => r.id));
  });
});
