/** GET /v1/stats/performance and GET /v1/stats/errors: the seed's performance and error analyses. */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../shared/api';
import { errorStats, performanceStats } from '../../shared/query';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';
import { scopedServices } from './logs';

/** The windows a stats query may look back over, in seconds. */
export const WINDOWS: Record<string, number> = {
  '15m': 900,
  '1h': 3600,
  '6h': 21_600,
  '24h': 86_400,
  '7d': 604_800,
  '30d': 2_592_000,
  '90d': 7_776_000,
};
export const WindowSchema = z
  .enum(Object.keys(WINDOWS) as [string, ...string[]])
  .default('24h')
  .openapi({ description: 'How far back' });

export function since(window: string): string {
  return new Date(Date.now() - WINDOWS[window]! * 1000).toISOString();
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
  request: { query: z.strictObject({ window: WindowSchema, service: z.string().optional(), operation: z.string().optional() }) },
  responses: {
    200: { description: 'Latency by service and operation', content: { 'application/json': { schema: PerformanceStatsSchema } } },
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
  request: { query: z.strictObject({ window: WindowSchema, service: z.string().optional() }) },
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
    const service = scopedServices(c.get('apiKey').service, q.service ? [q.service] : undefined)?.[0];
    return c.json(
      { window: q.window, operations: await performanceStats(c.get('sql'), since(q.window), { service, operation: q.operation }) },
      200,
    );
  });
  app.openapi(errorsRoute, async (c) => {
    const q = c.req.valid('query');
    const service = scopedServices(c.get('apiKey').service, q.service ? [q.service] : undefined)?.[0];
    const bucketSeconds = Math.max(60, Math.round(WINDOWS[q.window]! / 60));
    const stats = await errorStats(c.get('sql'), since(q.window), bucketSeconds, service);
    return c.json({ window: q.window, bucket_seconds: bucketSeconds, by_service: stats.byService, buckets: stats.buckets }, 200);
  });
}
