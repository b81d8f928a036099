import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import worker from '../../functions/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertBatch, type LogRow, type MetricRow } from '../../shared/ingest';
import type { LogsPage } from '../../functions/routes/logs';
import type { ErrorStats, PerformanceStats } from '../../functions/routes/stats';
import type { Trace } from '../../functions/routes/traces';
import type { ErrorBody } from '../../shared/api/errors';
import { makeKey, postIngest, testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());
const DAY = 86_400_000;

let service: string;
let readKey: string;
let ingestKey: string;
const base = Date.now() - 60 * 60_000;
const archivedDay = new Date(Date.now() - 40 * DAY).toISOString().slice(0, 10);

function get(path: string, key = readKey) {
  return exports.default.fetch(new Request(`http://logs.test${path}`, { headers: { authorization: `Bearer ${key}` } }));
}

beforeAll(async () => {
  service = uniqueService('execution');
  readKey = await makeKey(service, ['read']);
  ingestKey = await makeKey(service);
  const logs: LogRow[] = Array.from({ length: 30 }, (_, i) => ({
    id: crypto.randomUUID(),
    timestamp: new Date(base + i * 1000).toISOString(),
    service,
    level: i % 10 === 0 ? 'ERROR' : i % 3 === 0 ? 'WARNING' : 'INFO',
    message: i === 7 ? 'Order ORD-7 rejected by venue' : `Order ${i} created`,
    data: { i, symbol: i % 2 ? 'AAPL' : 'MSFT', qty: i * 10 },
    correlation_id: i < 5 ? `trace-${service}` : null,
    event_type: i % 4 === 0 ? 'trading' : 'system',
  }));
  const metrics: MetricRow[] = [10, 20, 30, 40, 100].map((ms, i) => ({
    id: crypto.randomUUID(),
    timestamp: new Date(base + i * 1000 + 500).toISOString(),
    service,
    operation: 'create_order',
    execution_time_ms: ms,
    memory_usage_mb: null,
    cpu_usage_percent: null,
    correlation_id: i < 2 ? `trace-${service}` : null,
    data: null,
  }));
  await insertBatch(sql, logs, metrics);
  // An archived day, as retention leaves it.
  await sql`SELECT logging.ensure_day_partition('archived_system_logs', ${archivedDay}::date)`;
  await sql`INSERT INTO logging.archived_system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", retention_class)
            VALUES (gen_random_uuid(), ${service}, 'ERROR', 'old archived error', '{"symbol":"AAPL"}', ${`trace-${service}`}, 'trading', ${archivedDay + 'T10:00:00Z'}, 'extended')`;
});

describe('GET /v1/logs', () => {
  it('needs a key with the read scope; read keys cannot ingest', async () => {
    expect((await get('/v1/logs', 'lk_nope')).status).toBe(401);
    const forbidden = await get('/v1/logs', ingestKey);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as ErrorBody).message).toMatch(/read/);
    expect((await postIngest({ logs: [] }, { key: readKey })).status).toBe(403);
    const other = await get(`/v1/logs?service=${uniqueService('risk')}`);
    expect(other.status).toBe(403);
  });

  it('filters by service, minimum level, event type, correlation id, time, text and data fields; archived days included', async () => {
    const q = async (params: string) => ((await (await get(`/v1/logs?service=${service}&limit=1000&${params}`)).json()) as LogsPage).logs;
    expect(await q('')).toHaveLength(31);
    expect((await q('level=error')).map((l) => l.message)).toEqual([
      'Order 20 created',
      'Order 10 created',
      'Order 0 created',
      'old archived error',
    ]);
    expect((await q('level=WARNING')).every((l) => ['WARNING', 'ERROR'].includes(l.level))).toBe(true);
    expect(await q('event_type=trading')).toHaveLength(9);
    expect(await q(`correlation_id=trace-${service}`)).toHaveLength(6);
    expect(await q(`from=${encodeURIComponent(new Date(base + 25_000).toISOString())}`)).toHaveLength(5);
    expect(await q(`to=${encodeURIComponent(new Date(base).toISOString())}`)).toHaveLength(1);
    expect((await q('q=rejected')).map((l) => l.message)).toEqual(['Order ORD-7 rejected by venue']);
    expect(await q('data.symbol=AAPL')).toHaveLength(16);
    expect((await q('data.qty=100')).map((l) => l.message)).toEqual(['Order 10 created']);
    const archived = (await q('data.symbol=AAPL&level=ERROR')).filter((l) => l.archived);
    expect(archived.map((l) => l.message)).toEqual(['old archived error']);
  });

  it('pages newest first with a cursor, without gaps or repeats while ingest goes on', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const res = await get(`/v1/logs?service=${service}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      const body = (await res.json()) as LogsPage;
      seen.push(...body.logs.map((l) => l.id));
      const ts = body.logs.map((l) => l.timestamp);
      expect([...ts].sort().reverse()).toEqual(ts);
      cursor = body.nextCursor;
      if (page++ === 1) {
        // New records arrive between pages: they are newer than the cursor and do not disturb it.
        const r = await postIngest({ logs: [{ service, level: 'INFO', message: 'late arrival' }] }, { key: ingestKey });
        expect(r.status).toBe(200);
      }
    } while (cursor);
    expect(seen).toHaveLength(31);
    expect(new Set(seen).size).toBe(31);
  });

  it('reads through the HYPERDRIVE_READ binding when it is set, and from the primary when it cannot connect', async () => {
    const path = `/v1/logs?service=${service}&limit=5`;
    const withReplica = async (replica: Hyperdrive) => {
      const ctx = createExecutionContext();
      const request = new Request(`http://logs.test${path}`, { headers: { authorization: `Bearer ${readKey}` } });
      const res = await worker.fetch!(request as never, { ...env, HYPERDRIVE_READ: replica }, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect((await get(path)).headers.get('x-read-from')).toBe('primary'); // no replica bound
    // The same database bound a second time stands in for a replica: the wiring is what is tested here
    // (test/node/read-replica.test.ts reads a real streaming replica).
    const replica = await withReplica(env.HYPERDRIVE);
    expect(replica.status).toBe(200);
    expect(replica.headers.get('x-read-from')).toBe('replica');
    expect(((await replica.json()) as LogsPage).logs).toHaveLength(5);
    const unreachable = { ...env.HYPERDRIVE, connectionString: 'postgres://postgres:postgres@127.0.0.1:1/postgres' } as Hyperdrive;
    const fallback = await withReplica(unreachable);
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get('x-read-from')).toBe('primary');
    expect(((await fallback.json()) as LogsPage).logs).toHaveLength(5);
  });

  it('a bad filter is a 400 that says which and why', async () => {
    const cases: [string, string][] = [
      ['level=LOUD', 'level'],
      ['limit=5000', 'limit'],
      ['from=yesterday', 'from'],
      ['colour=red', 'colour'],
      ['cursor=abc', 'cursor'],
    ];
    for (const [params, path] of cases) {
      const res = await get(`/v1/logs?${params}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.code).toBe('BAD_REQUEST');
      expect(body.issues?.map((i) => i.path)).toContain(path);
    }
  });
});

describe('GET /v1/traces/{correlation_id}', () => {
  it('returns every log and metric of the flow as one timeline, with durations', async () => {
    const res = await get(`/v1/traces/trace-${service}`);
    const trace = (await res.json()) as Trace;
    expect(trace.events).toHaveLength(8); // 5 logs + 2 metrics + 1 archived log
    expect(trace.events[0]!.message).toBe('old archived error');
    const offsets = trace.events.map((e) => e.offset_ms);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    expect(trace.events.filter((e) => e.kind === 'metric').map((e) => e.duration_ms)).toEqual([10, 20]);
  });
});

describe('stats', () => {
  it('performance: count, average, p50, p95, p99 and max by service and operation', async () => {
    const res = await get(`/v1/stats/performance?window=24h&service=${service}`);
    const body = (await res.json()) as PerformanceStats;
    expect(body.operations).toEqual([
      { service, operation: 'create_order', count: 5, avg_ms: 40, p50_ms: 30, p95_ms: 88, p99_ms: 97.6, max_ms: 100 },
    ]);
  });

  it('errors: counts by service and level with the last occurrence, and per bucket', async () => {
    const res = await get(`/v1/stats/errors?window=24h&service=${service}`);
    const body = (await res.json()) as ErrorStats;
    expect(body.by_service).toEqual([expect.objectContaining({ service, level: 'ERROR', count: 3 })]);
    expect(body.buckets.reduce((n, b) => n + b.count, 0)).toBe(3);
    expect(body.bucket_seconds).toBe(1440);
    expect((await get('/v1/stats/errors?window=2y')).status).toBe(400);
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document for every route', async () => {
    const doc = (await (await exports.default.fetch(new Request('http://logs.test/openapi.json'))).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/health',
      '/metrics',
      '/otlp/v1/logs',
      '/otlp/v1/traces',
      '/v1/alerts/contact-points',
      '/v1/alerts/contact-points/{name}',
      '/v1/alerts/contact-points/{name}/test',
      '/v1/alerts/deliver',
      '/v1/alerts/deliver/failed',
      '/v1/alerts/evaluations',
      '/v1/alerts/history',
      '/v1/alerts/instances',
      '/v1/alerts/mute-timings',
      '/v1/alerts/mute-timings/{name}',
      '/v1/alerts/notifications',
      '/v1/alerts/preview',
      '/v1/alerts/rules',
      '/v1/alerts/rules/{name}',
      '/v1/alerts/silences',
      '/v1/alerts/silences/{id}',
      '/v1/ingest',
      '/v1/keys',
      '/v1/keys/{id}',
      '/v1/keys/{id}/rotate',
      '/v1/logs',
      '/v1/replay',
      '/v1/replay/failed',
      '/v1/stats/errors',
      '/v1/stats/latency',
      '/v1/stats/performance',
      '/v1/tail',
      '/v1/traces/{correlation_id}',
    ]);
  });

  it('documents every error answer with its closed list of codes', async () => {
    type Schema = { properties?: { code?: { enum?: string[] } } };
    type Operation = { responses: Record<string, { content?: Record<string, { schema: Schema }> }> };
    const doc = (await (await exports.default.fetch(new Request('http://logs.test/openapi.json'))).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const codesOf = (path: string, method: string, status: string) =>
      doc.paths[path]![method]!.responses[status]?.content?.['application/json']?.schema.properties?.code?.enum;
    expect(codesOf('/v1/logs', 'get', '401')).toEqual(['UNAUTHORIZED']);
    expect(codesOf('/v1/logs', 'get', '500')).toEqual(['INTERNAL']);
    expect(codesOf('/v1/ingest', 'post', '413')).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(codesOf('/v1/replay', 'post', '503')).toEqual(['DATABASE_UNAVAILABLE', 'REPLAY_DISABLED']);
    // Every error answer is the envelope, but /health's 503 (the health body) and the OTLP routes'
    // (a google.rpc.Status, the OTLP contract).
    expect((doc.paths['/otlp/v1/logs']!.post!.responses['400']!.content!['application/json']!.schema as { $ref?: string }).$ref).toBe(
      '#/components/schemas/GoogleRpcStatus',
    );
    for (const [path, methods] of Object.entries(doc.paths).filter(([p]) => p !== '/health' && !p.startsWith('/otlp/'))) {
      for (const [method, op] of Object.entries(methods)) {
        for (const status of Object.keys(op.responses).filter((s) => Number(s) >= 400)) {
          expect(codesOf(path, method, status), `${method} ${path} ${status}`).toBeDefined();
        }
      }
    }
  });

  it('describes every alerting answer field by field: no untyped record or value', async () => {
    interface Schema {
      $ref?: string;
      type?: string | string[];
      enum?: unknown[];
      const?: unknown;
      properties?: Record<string, Schema>;
      additionalProperties?: Schema | boolean;
      items?: Schema;
      oneOf?: Schema[];
      anyOf?: Schema[];
      allOf?: Schema[];
    }
    type Operation = { responses: Record<string, { content?: Record<string, { schema: Schema }> }> };
    const doc = (await (await exports.default.fetch(new Request('http://logs.test/openapi.json'))).json()) as {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, Schema> };
    };
    const loose: string[] = [];
    const walk = (s: Schema, at: string, refs: string[]): void => {
      if (s.$ref) {
        const name = s.$ref.replace('#/components/schemas/', '');
        if (!refs.includes(name)) walk(doc.components.schemas[name]!, at, [...refs, name]);
        return;
      }
      const alternatives = [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? [])];
      if (s.type === undefined && s.enum === undefined && s.const === undefined && alternatives.length === 0) loose.push(at);
      if (s.type === 'object' && !s.properties && typeof s.additionalProperties !== 'object') loose.push(`${at}{}`);
      if (s.type === 'array' && !s.items) loose.push(`${at}[]`);
      for (const [key, p] of Object.entries(s.properties ?? {})) walk(p, `${at}.${key}`, refs);
      if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${at}{*}`, refs);
      if (s.items) walk(s.items, `${at}[]`, refs);
      for (const alternative of alternatives) walk(alternative, at, refs);
    };
    const alerting = Object.entries(doc.paths).filter(([path]) => path.startsWith('/v1/alerts/'));
    expect(alerting.length).toBeGreaterThan(10);
    for (const [path, methods] of alerting) {
      for (const [method, op] of Object.entries(methods)) {
        const schema = op.responses['200']?.content?.['application/json']?.schema;
        expect(schema, `${method} ${path}`).toBeDefined();
        walk(schema!, `${method} ${path}: `, []);
      }
    }
    expect(loose).toEqual([]);
  });
});
