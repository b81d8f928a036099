import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestResponse } from '../../shared/api/wire';
import type { ErrorBody } from '../../shared/api/errors';
import { makeKey, postIngest, testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());

let service: string;
let key: string;
beforeAll(async () => {
  service = uniqueService('execution');
  key = await makeKey(service);
});

const log = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  service,
  level: 'INFO',
  message: 'Order created',
  ...over,
});
const metric = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  service,
  operation: 'create_order',
  execution_time_ms: 12.345,
  ...over,
});

async function rowsOf(svc: string) {
  return sql`SELECT id::text, service, level, message, data, correlation_id, event_type, "timestamp" FROM logging.system_logs WHERE service = ${svc} ORDER BY "timestamp", message`;
}

describe('POST /v1/ingest', () => {
  it('stores system logs and metrics with every field', async () => {
    const svc = uniqueService('execution');
    const k = await makeKey(svc);
    const id = crypto.randomUUID();
    const ts = new Date(Date.now() - 60_000).toISOString();
    const res = await postIngest(
      {
        logs: [
          {
            id,
            timestamp: ts,
            service: svc,
            level: 'info',
            message: 'Order created',
            data: { order_id: 'ORD123', symbol: 'AAPL', qty: 100, price: 150.25 },
            correlation_id: 'trade-1',
            event_type: 'trading',
          },
          { service: svc, level: 'Warning', message: 'Slow fill' },
        ],
        metrics: [
          {
            service: svc,
            operation: 'create_order',
            execution_time_ms: 45.678,
            memory_usage_mb: 12.5,
            cpu_usage_percent: 37.25,
            correlation_id: 'trade-1',
          },
        ],
      },
      { key: k },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 3, duplicates: 0, sanitized: 0, rejected: [] });

    const rows = await rowsOf(svc);
    expect(rows).toHaveLength(2);
    const first = rows.find((r) => r.id === id)!;
    expect(first).toMatchObject({
      level: 'INFO',
      message: 'Order created',
      correlation_id: 'trade-1',
      event_type: 'trading',
      data: { order_id: 'ORD123', symbol: 'AAPL', qty: 100, price: 150.25 },
    });
    expect(new Date(first.timestamp).toISOString()).toBe(ts);
    const second = rows.find((r) => r.id !== id)!;
    expect(second.level).toBe('WARNING');
    expect(second.id).toMatch(/^[0-9a-f-]{36}$/);

    const [m] =
      await sql`SELECT operation, execution_time_ms::float8 AS t, memory_usage_mb::float8 AS mem, cpu_usage_percent::float8 AS cpu, correlation_id FROM logging.performance_logs WHERE service = ${svc}`;
    expect(m).toEqual({ operation: 'create_order', t: 45.678, mem: 12.5, cpu: 37.25, correlation_id: 'trade-1' });
  });

  it('accepts the valid records of a batch and reports the invalid ones by index', async () => {
    const res = await postIngest(
      {
        logs: [log({ message: 'good 0' }), log({ level: 'LOUD' }), log({ message: 'good 2' }), { service }, log({ surprise: 1 })],
        metrics: [metric(), metric({ execution_time_ms: -1 }), metric({ execution_time_ms: 1e9 })],
      },
      { key },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as IngestResponse;
    expect(body.accepted).toBe(3);
    expect(body.rejected.map((r) => [r.kind, r.index])).toEqual([
      ['log', 1],
      ['log', 3],
      ['log', 4],
      ['metric', 1],
      ['metric', 2],
    ]);
    expect(body.rejected[0]!.issues[0]).toMatchObject({ path: 'level' });
    expect(body.rejected[0]!.issues[0]!.message).toMatch(/DEBUG, INFO, WARNING, ERROR, CRITICAL/);
    expect(body.rejected[1]!.issues.map((i) => i.path).sort()).toEqual(['level', 'message']);
    expect(body.rejected[2]!.issues[0]!.code).toBe('unrecognized_keys');
    expect(body.rejected[3]!.issues[0]!.path).toBe('execution_time_ms');
    const messages = (await rowsOf(service)).map((r) => r.message);
    expect(messages).toContain('good 0');
    expect(messages).toContain('good 2');
  });

  it('stores a record delivered twice once, and says so', async () => {
    const batch = {
      logs: [log({ id: crypto.randomUUID(), timestamp: new Date().toISOString(), message: 'dup' })],
      metrics: [metric({ id: crypto.randomUUID(), timestamp: new Date().toISOString() })],
    };
    const first = (await (await postIngest(batch, { key })).json()) as IngestResponse;
    const [a, b] = await Promise.all([postIngest(batch, { key }), postIngest(batch, { key })]);
    expect(first).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(await a.json()).toMatchObject({ accepted: 2, duplicates: 2 });
    expect(await b.json()).toMatchObject({ accepted: 2, duplicates: 2 });
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE id = ${batch.logs[0]!.id as string}`;
    expect(row!.n).toBe(1);
    const [mrow] = await sql<
      { m: number }[]
    >`SELECT count(*)::int AS m FROM logging.performance_logs WHERE id = ${batch.metrics[0]!.id as string}`;
    expect(mrow!.m).toBe(1);
  });

  it('stores a duplicate inside one batch once', async () => {
    const rec = log({ id: crypto.randomUUID(), timestamp: new Date().toISOString() });
    const body = (await (await postIngest({ logs: [rec, rec] }, { key })).json()) as IngestResponse;
    expect(body).toMatchObject({ accepted: 2, duplicates: 1 });
  });

  it('accepts gzip bodies', async () => {
    const res = await postIngest({ logs: [log({ message: 'zipped' })] }, { key, gzip: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 1 });
    expect((await rowsOf(service)).some((r) => r.message === 'zipped')).toBe(true);
  });

  it('replaces NUL characters and lone surrogates instead of failing the batch', async () => {
    const res = await postIngest(
      {
        logs: [
          log({ message: 'nul\u0000here', data: { 'k\u0000': 'v\u0000', nested: ['\ud800x'] } }),
          log({ message: 'lone \udc00 surrogate' }),
          log({ message: 'emoji 😀 stays' }),
        ],
      },
      { key },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 3, sanitized: 2, rejected: [] });
    const rows = await rowsOf(service);
    const nul = rows.find((r) => r.message.startsWith('nul'))!;
    expect(nul.message).toBe('nul\uFFFDhere');
    expect(nul.data).toEqual({ 'k\uFFFD': 'v\uFFFD', nested: ['\uFFFDx'] });
    expect(rows.some((r) => r.message === 'lone \uFFFD surrogate')).toBe(true);
    expect(rows.some((r) => r.message === 'emoji 😀 stays')).toBe(true);
  });

  it('refuses far-past and future timestamps per record, and keeps the rest', async () => {
    const now = Date.now();
    const res = await postIngest(
      {
        logs: [
          log({ message: 'ancient', timestamp: '2001-01-01T00:00:00Z' }),
          log({ message: 'future', timestamp: new Date(now + 3_600_000).toISOString() }),
          log({ message: 'skewed', timestamp: new Date(now + 120_000).toISOString() }),
          log({ message: 'old but fine', timestamp: new Date(now - 29 * 86_400_000).toISOString() }),
          log({ message: 'epoch ms', timestamp: now - 1000 }),
          log({ message: 'bad format', timestamp: '01/02/2025' }),
        ],
      },
      { key },
    );
    const body = (await res.json()) as IngestResponse;
    expect(body.accepted).toBe(3);
    expect(body.rejected.map((r) => [r.index, r.issues[0]!.code])).toEqual([
      [0, 'timestamp_too_old'],
      [1, 'timestamp_in_future'],
      [5, 'invalid_format'],
    ]);
    expect(body.rejected[2]!.issues[0]!.message).toMatch(/RFC 3339/);
    const messages = (await rowsOf(service)).map((r) => r.message);
    expect(messages).toEqual(expect.arrayContaining(['skewed', 'old but fine', 'epoch ms']));
    expect(messages).not.toContain('ancient');
  });

  it('rejects records naming another service than the key allows', async () => {
    const other = uniqueService('risk');
    const res = await postIngest({ logs: [log({ message: 'mine' }), log({ service: other, message: 'spoof' })] }, { key });
    const body = (await res.json()) as IngestResponse;
    expect(body.accepted).toBe(1);
    expect(body.rejected).toEqual([
      { index: 1, kind: 'log', issues: [expect.objectContaining({ path: 'service', code: 'spoofed_service' })] },
    ]);
    expect(await rowsOf(other)).toHaveLength(0);
  });

  it('lets a "*" key write for any service', async () => {
    const all = await makeKey('*');
    const a = uniqueService('analytics');
    const b = uniqueService('notification');
    const res = await postIngest({ logs: [log({ service: a }), log({ service: b })] }, { key: all });
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: [] });
  });
});

describe('POST /v1/ingest refusals', () => {
  async function expectError(res: Response, status: number, code: string, message?: RegExp) {
    expect(res.status).toBe(status);
    const body = (await res.json()) as ErrorBody;
    expect(body.code).toBe(code);
    expect(body.requestId).toBeTruthy();
    if (message) expect(body.message).toMatch(message);
    return body;
  }

  it('401 without a key, with an unknown key, with a revoked key', async () => {
    await expectError(await postIngest({ logs: [log()] }), 401, 'UNAUTHORIZED', /Authorization: Bearer/);
    await expectError(await postIngest({ logs: [log()] }, { key: 'lk_nope' }), 401, 'UNAUTHORIZED');
    const k = await makeKey(service);
    await sql`UPDATE logging.api_keys SET revoked_at = now() WHERE key_hash = encode(sha256(${k}::bytea), 'hex')`;
    await expectError(await postIngest({ logs: [log()] }, { key: k }), 401, 'UNAUTHORIZED', /revoked/);
  });

  it('403 for a key without the ingest scope', async () => {
    const readOnly = await makeKey('*', ['read']);
    await expectError(await postIngest({ logs: [log()] }, { key: readOnly }), 403, 'FORBIDDEN', /ingest/);
  });

  it('415 for another content type', async () => {
    await expectError(
      await postIngest(null, { key, raw: 'a=b', headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await expectError(await postIngest({ logs: [] }, { key, headers: { 'content-encoding': 'br' } }), 415, 'UNSUPPORTED_MEDIA_TYPE', /br/);
  });

  it('400 for a body that is not JSON or not the envelope', async () => {
    await expectError(await postIngest(null, { key, raw: '{"logs": [' }), 400, 'BAD_REQUEST', /not valid JSON/);
    await expectError(await postIngest([1, 2], { key }), 400, 'BAD_REQUEST');
    await expectError(await postIngest({}, { key }), 400, 'BAD_REQUEST');
    const body = await expectError(await postIngest({ log: [log()] }, { key }), 400, 'BAD_REQUEST');
    expect(JSON.stringify(body.issues)).toMatch(/log/);
    await expectError(await postIngest({ logs: 'x' }, { key }), 400, 'BAD_REQUEST');
    await expectError(
      await postIngest(null, { key, raw: 'not gzip', headers: { 'content-encoding': 'gzip' } }),
      400,
      'BAD_REQUEST',
      /gzip/,
    );
  });

  it('413 for too many records or too many bytes, plain or gzip', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => log({ message: `m${i}` }));
    await expectError(await postIngest({ logs: many }, { key }), 413, 'PAYLOAD_TOO_LARGE', /1001 records; the limit is 1000/);
    const big = { logs: [log({ message: 'x'.repeat(1024 * 1024) })] };
    await expectError(await postIngest(big, { key }), 413, 'PAYLOAD_TOO_LARGE', /1048576 bytes/);
    // 1 MiB of 'x' gzips to ~1 KiB: the limit applies after decoding.
    await expectError(await postIngest(big, { key, gzip: true }), 413, 'PAYLOAD_TOO_LARGE');
    expect((await rowsOf(service)).some((r) => r.message.length > 1000)).toBe(false);
  });

  it('404 in the same envelope', async () => {
    const { exports } = await import('cloudflare:workers');
    await expectError(await exports.default.fetch(new Request('http://logs.test/nope')), 404, 'NOT_FOUND');
  });
});

describe('POST /v1/ingest, a batch large enough to be COPYed', () => {
  // Every character COPY's text format escapes or could misread, in text and in JSON.
  const awkward = 'tab\there\nnewline\rcr back\\slash \\N literal "quoted" é 📈 \u2028';
  const batch = (svc: string, n: number, ids: string[], ts: string) => ({
    logs: Array.from({ length: n }, (_, i) => ({
      id: ids[i],
      timestamp: ts,
      service: svc,
      level: i % 10 === 0 ? 'ERROR' : 'INFO',
      message: i === 0 ? awkward : `Order ${i} routed`,
      ...(i % 2 ? { data: { order_id: `ORD${i}`, note: awkward, nested: { a: [1, null, 'x\\y'] } } } : {}),
      ...(i % 3 ? { correlation_id: `trade-${i}` } : {}),
      ...(i % 4 === 0 ? { event_type: 'trading' } : {}),
    })),
    metrics: Array.from({ length: 40 }, (_, i) => ({
      id: ids[n + i],
      timestamp: ts,
      service: svc,
      operation: 'create_order',
      execution_time_ms: 0.001 + i,
      ...(i % 2 ? { memory_usage_mb: 12.5, cpu_usage_percent: 37.25, data: { venue: awkward } } : {}),
    })),
  });

  it('stores every value as sent, in its class, notes a late minute, and stores a resent batch once', async () => {
    const svc = uniqueService('execution');
    const k = await makeKey(svc);
    const ids = Array.from({ length: 240 }, () => crypto.randomUUID());
    const ts = new Date(Date.now() - 30 * 60_000).toISOString(); // late: its minute's rollup must be redone
    const sent = batch(svc, 200, ids, ts);
    const first = await postIngest(sent, { key: k });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ accepted: 240, duplicates: 0 });

    const logs = await sql<
      {
        id: string;
        message: string;
        data: unknown;
        correlation_id: string | null;
        event_type: string | null;
        retention_class: string;
        level: string;
      }[]
    >`
      SELECT id::text, message, data, correlation_id, event_type, retention_class, level FROM logging.system_logs WHERE service = ${svc}`;
    expect(logs).toHaveLength(200);
    const byId = new Map(logs.map((r) => [r.id, r]));
    sent.logs.forEach((l) => {
      const row = byId.get(l.id!)!;
      expect(row.message).toBe(l.message);
      expect(row.data).toEqual(l.data ?? null);
      expect(row.correlation_id).toBe(l.correlation_id ?? null);
      expect(row.event_type).toBe(l.event_type ?? null);
      expect(row.retention_class).toBe(l.level === 'ERROR' || l.event_type === 'trading' ? 'extended' : 'standard');
    });
    const metrics = await sql<{ id: string; execution_time_ms: string; memory_usage_mb: string | null; data: unknown }[]>`
      SELECT id::text, execution_time_ms::text, memory_usage_mb::text, data FROM logging.performance_logs WHERE service = ${svc}`;
    expect(metrics).toHaveLength(40);
    const metricById = new Map(metrics.map((m) => [m.id, m]));
    sent.metrics.forEach((m) => {
      expect(Number(metricById.get(m.id!)!.execution_time_ms)).toBe(m.execution_time_ms);
      expect(metricById.get(m.id!)!.memory_usage_mb).toBe(m.memory_usage_mb === undefined ? null : '12.500');
      expect(metricById.get(m.id!)!.data).toEqual(m.data ?? null);
    });
    const minute = new Date(Math.floor(Date.parse(ts) / 60_000) * 60_000);
    expect((await sql`SELECT 1 FROM logging.late_minutes WHERE minute = ${minute}`).length).toBeGreaterThan(0);

    // The same batch again fails the COPY on the primary key and is inserted idempotently instead.
    const again = await postIngest(sent, { key: k });
    expect(await again.json()).toMatchObject({ accepted: 240, duplicates: 240 });
    // Half stored, half new.
    const mixedIds = [...ids.slice(0, 100), ...Array.from({ length: 140 }, () => crypto.randomUUID())];
    const mixed = await postIngest(batch(svc, 200, mixedIds, ts), { key: k });
    expect(await mixed.json()).toMatchObject({ accepted: 240, duplicates: 100 });
    const [count] = await sql<{ logs: number; metrics: number }[]>`
      SELECT (SELECT count(*) FROM logging.system_logs WHERE service = ${svc})::int AS logs,
             (SELECT count(*) FROM logging.performance_logs WHERE service = ${svc})::int AS metrics`;
    expect(count).toEqual({ logs: 300, metrics: 80 });
  });
});
