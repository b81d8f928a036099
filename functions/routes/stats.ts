/**
 * GET /v1/stats/performance, /v1/stats/latency and /v1/stats/errors (keys with the `read` scope):
 * the seed's performance and error analyses, and each operation's p95 over time (the dashboard's
 * latency chart). Active and archived days are read together.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../shared/api';
import { errorStats, latencySeries, OperationSeriesSchema, performanceStats } from '../../shared/query';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';
import { scopedServices } from './logs';

/** The windows a stats query may look back over, in seconds. */
const WINDOWS: Record<string, number> = {
  '15m': 900,
  '1h': 3600,
  '6h': 21_600,
  '24h': 86_400,
  '7d': 604_800,
  '30d': 2_592_000,
  '90d': 7_776_000,
};
const WindowSchema = z
  .enum(Object.keys(WINDOWS) as [string, ...string[]])
  .default('24h')
  .openapi({ description: 'How far back' });

/** Where a window starts, and its time buckets: about 60 over the window, at least a minute. */
function span(window: string): { since: string; bucketSeconds: number } {
  const seconds = WINDOWS[window]!;
  return { since: new Date(Date.now() - seconds * 1000).toISOString(), bucketSeconds: Math.max(60, Math.round(seconds / 60)) };
}

const ServiceParam = z.string().optional().openapi({ description: 'One service (a key scoped to a service reads that service only)' });
const OperationQuery = z.strictObject({
  window: WindowSchema,
  service: ServiceParam,
  operation: z.string().optional().openapi({ description: 'One operation' }),
});

/** The one service a stats query reads: the requested one, narrowed to the key's. */
function scopedService(keyService: string, requested: string | undefined): string | undefined {
  return scopedServices(keyService, requested ? [requested] : undefined)?.[0];
}

const errors = errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE');

const PerformanceStatsSchema = z
  .object({
    window: z.string(),
    operations: z.array(
      z.object({
        service: z.string(),
        operation: z.string(),
        count: z.number(),
        avg_ms: z.number(),
        p50_ms: z.number(),
        p95_ms: z.number(),
        p99_ms: z.number(),
        max_ms: z.number(),
      }),
    ),
  })
  .openapi('PerformanceStats');
export type PerformanceStats = z.infer<typeof PerformanceStatsSchema>;

const performanceRoute = createRoute({
  method: 'get',
  path: '/v1/stats/performance',
  security: [{ bearer: [] }],
  request: { query: OperationQuery },
  responses: {
    200: { description: 'Latency by service and operation', content: { 'application/json': { schema: PerformanceStatsSchema } } },
    ...errors,
  },
});

const LatencySeriesSchema = z
  .object({
    window: z.string(),
    bucket_seconds: z.number().int(),
    series: z.array(OperationSeriesSchema),
  })
  .openapi('LatencySeries');
export type LatencySeries = z.infer<typeof LatencySeriesSchema>;

const latencyRoute = createRoute({
  method: 'get',
  path: '/v1/stats/latency',
  description:
    "Each operation's p95 latency per time bucket over the window, one series per service and operation; active and archived days.",
  security: [{ bearer: [] }],
  request: { query: OperationQuery },
  responses: {
    200: { description: 'p95 latency per operation and time bucket', content: { 'application/json': { schema: LatencySeriesSchema } } },
    ...errors,
  },
});

const ErrorStatsSchema = z
  .object({
    window: z.string(),
    bucket_seconds: z.number(),
    by_service: z.array(z.object({ service: z.string(), level: z.string(), count: z.number(), last_occurrence: z.string() })),
    buckets: z.array(z.object({ bucket: z.string(), count: z.number() })),
  })
  .openapi('ErrorStats');
export type ErrorStats = z.infer<typeof ErrorStatsSchema>;

const errorsRoute = createRoute({
  method: 'get',
  path: '/v1/stats/errors',
  security: [{ bearer: [] }],
  request: { query: z.strictObject({ window: WindowSchema, service: ServiceParam }) },
  responses: {
    200: {
      description: 'ERROR and CRITICAL counts by service and level, and per time bucket',
      content: { 'application/json': { schema: ErrorStatsSchema } },
    },
    ...errors,
  },
});

export function registerStats(app: App) {
  app.use('/v1/stats/*', requireKey('read'));
  app.openapi(performanceRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = { service: scopedService(c.get('apiKey').service, q.service), operation: q.operation };
    return c.json({ window: q.window, operations: await c.get('read')((sql) => performanceStats(sql, span(q.window).since, filter)) }, 200);
  });
  app.openapi(latencyRoute, async (c) => {
    const q = c.req.valid('query');
    const { since, bucketSeconds } = span(q.window);
    const filter = { service: scopedService(c.get('apiKey').service, q.service), operation: q.operation };
    const series = await c.get('read')((sql) => latencySeries(sql, since, bucketSeconds, filter));
    return c.json({ window: q.window, bucket_seconds: bucketSeconds, series }, 200);
  });
  app.openapi(errorsRoute, async (c) => {
    const q = c.req.valid('query');
    const { since, bucketSeconds } = span(q.window);
    const stats = await c.get('read')((sql) => errorStats(sql, since, bucketSeconds, scopedService(c.get('apiKey').service, q.service)));
    return c.json({ window: q.window, bucket_seconds: bucketSeconds, by_service: stats.byService, buckets: stats.buckets }, 200);
  });
}
