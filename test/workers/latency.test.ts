import { exports } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LatencySeries } from '../../functions/routes/stats';
import { makeKey, postIngest, testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());
const DAY = 86_400_000;
const BUCKET = 1440; // seconds: the 24 h window in about 60 buckets, as /v1/stats/errors

let service: string;
let other: string;
let readKey: string;
let ingestKey: string;
// Two adjacent buckets a few hours ago; the metrics sit inside them.
const a = Math.floor((Date.now() / 1000 - 3 * 3600) / BUCKET) * BUCKET;
const b = a + BUCKET;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const archivedDay = new Date(Date.now() - 40 * DAY).toISOString().slice(0, 10);

function get(path: string, key: string | null = readKey) {
  return exports.default.fetch(new Request(`http://logs.test${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} }));
}

beforeAll(async () => {
  service = uniqueService('execution');
  other = uniqueService('risk');
  readKey = await makeKey(service, ['read']);
  ingestKey = await makeKey(service);
  const metric = (operation: string, at: number, ms: number, svc = service) => ({
    service: svc,
    operation,
    execution_time_ms: ms,
    timestamp: new Date(at * 1000).toISOString(),
  });
  const metrics = [
    ...[10, 20, 30, 40, 100].map((ms, i) => metric('create_order', a + 10 + i * 60, ms)),
    metric('create_order', b + 30, 5),
    metric('cancel_order', b + 40, 1),
    metric('cancel_order', b + 50, 2),
  ];
  expect((await postIngest({ metrics }, { key: ingestKey })).status).toBe(200);
  expect((await postIngest({ metrics: [metric('check_limits', a + 20, 7, other)] }, { key: await makeKey(other) })).status).toBe(200);
  // An archived day, as retention leaves it: outside 24 h, inside 90 d.
  await sql`SELECT logging.ensure_day_partition('archived_performance_logs', ${archivedDay}::date)`;
  await sql`INSERT INTO logging.archived_performance_logs (id, service, operation, execution_time_ms, "timestamp")
            VALUES (gen_random_uuid(), ${service}, 'create_order', 250, ${archivedDay + 'T10:00:00Z'})`;
});

describe('GET /v1/stats/latency', () => {
  it("answers each operation's p95 per time bucket, one series per service and operation", async () => {
    const res = await get(`/v1/stats/latency?window=24h&service=${service}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      window: '24h',
      bucket_seconds: BUCKET,
      series: [
        { service, operation: 'cancel_order', points: [{ bucket: iso(b), count: 2, p95_ms: 1.95 }] },
        {
          service,
          operation: 'create_order',
          points: [
            { bucket: iso(a), count: 5, p95_ms: 88 },
            { bucket: iso(b), count: 1, p95_ms: 5 },
          ],
        },
      ],
    } satisfies LatencySeries);
  });

  it("defaults to 24 h and to the key's service; filters by operation; reads archived days", async () => {
    const body = (await (await get('/v1/stats/latency')).json()) as LatencySeries;
    expect(body.window).toBe('24h');
    expect(body.series.map((s) => `${s.service}/${s.operation}`)).toEqual([`${service}/cancel_order`, `${service}/create_order`]);

    const one = (await (await get('/v1/stats/latency?operation=create_order')).json()) as LatencySeries;
    expect(one.series.map((s) => s.operation)).toEqual(['create_order']);

    const long = (await (await get('/v1/stats/latency?window=90d&operation=create_order')).json()) as LatencySeries;
    expect(long.bucket_seconds).toBe(129_600);
    const [series] = long.series;
    expect(series!.points.map((p) => p.count).reduce((n, c) => n + c, 0)).toBe(7);
    expect(series!.points[0]).toMatchObject({ count: 1, p95_ms: 250 });
    expect(Date.parse(series!.points[0]!.bucket) % (129_600 * 1000)).toBe(0);
  });

  it('a key for every service reads them all, or the one asked for', async () => {
    const adminKey = await makeKey('*', ['read']);
    const all = (await (await get('/v1/stats/latency?window=24h', adminKey)).json()) as LatencySeries;
    const ours = all.series.filter((s) => s.service === service || s.service === other).map((s) => `${s.service}/${s.operation}`);
    expect(ours.sort()).toEqual([`${service}/cancel_order`, `${service}/create_order`, `${other}/check_limits`].sort());
    const theirs = (await (await get(`/v1/stats/latency?service=${other}`, adminKey)).json()) as LatencySeries;
    expect(theirs.series).toEqual([{ service: other, operation: 'check_limits', points: [{ bucket: iso(a), count: 1, p95_ms: 7 }] }]);
  });

  it('needs a read key scoped to the service; bad parameters are a 400', async () => {
    expect((await get('/v1/stats/latency', null)).status).toBe(401);
    expect((await get('/v1/stats/latency', ingestKey)).status).toBe(403);
    expect((await get(`/v1/stats/latency?service=${other}`)).status).toBe(403);
    const bad = await get('/v1/stats/latency?window=2y');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues?: { path: string }[] }).issues?.map((i) => i.path)).toContain('window');
    const unknown = await get('/v1/stats/latency?colour=red');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { code: string; issues?: { message: string }[] }).issues?.map((i) => i.message).join()).toMatch(
      /colour/,
    );
  });

  it('is in the OpenAPI document, with its response schema and the bearer scheme', async () => {
    const doc = (await (await get('/openapi.json', null)).json()) as {
      paths: Record<
        string,
        {
          get?: {
            security?: unknown;
            parameters?: { name: string }[];
            responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
          };
        }
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const op = doc.paths['/v1/stats/latency']?.get;
    expect(op?.security).toEqual([{ bearer: [] }]);
    expect(op?.parameters?.map((p) => p.name).sort()).toEqual(['operation', 'service', 'window']);
    expect(op?.responses['200']?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/LatencySeries');
    expect(Object.keys(doc.components.schemas.LatencySeries?.properties ?? {})).toEqual(['window', 'bucket_seconds', 'series']);
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
  });
});
