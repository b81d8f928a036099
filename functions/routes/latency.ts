/** GET /v1/stats/latency: each operation's p95 latency as a time series over the window (the dashboard's latency chart). */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../shared/api';
import { latencySeries } from '../../shared/query';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';
import { scopedServices } from './logs';
import { since, WINDOWS, WindowSchema } from './stats';

/** The same window values and service scoping as /v1/stats/performance. */
export const LatencyQuerySchema = z.strictObject({
  window: WindowSchema,
  service: z.string().optional().openapi({ description: 'One service (a key scoped to a service reads that service only)' }),
  operation: z.string().optional().openapi({ description: 'One operation' }),
});

const LatencyPointSchema = z.object({
  bucket: z.string().openapi({ format: 'date-time', description: 'Start of the bucket, UTC' }),
  count: z.number().int().openapi({ description: 'Metrics in the bucket' }),
  p95_ms: z.number().openapi({ description: '95th percentile of execution_time_ms in the bucket' }),
});

const LatencySeriesSchema = z
  .object({
    window: z.string(),
    bucket_seconds: z.number().int(),
    series: z.array(
      z.object({
        service: z.string(),
        operation: z.string(),
        points: z.array(LatencyPointSchema).openapi({ description: 'Oldest first; a bucket without metrics has no point' }),
      }),
    ),
  })
  .openapi('LatencySeries');
export type LatencySeries = z.infer<typeof LatencySeriesSchema>;

const latencyRoute = createRoute({
  method: 'get',
  path: '/v1/stats/latency',
  description:
    "Each operation's p95 latency per time bucket over the window, one series per service and operation; active and archived days.",
  security: [{ bearer: [] }],
  middleware: [requireKey('read')] as const,
  request: { query: LatencyQuerySchema },
  responses: {
    200: { description: 'p95 latency per operation and time bucket', content: { 'application/json': { schema: LatencySeriesSchema } } },
    ...errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

/** Buckets as /v1/stats/errors has them: about 60 over the window, at least a minute. */
export function registerLatency(app: App) {
  app.openapi(latencyRoute, async (c) => {
    const q = c.req.valid('query');
    const service = scopedServices(c.get('apiKey').service, q.service ? [q.service] : undefined)?.[0];
    const bucketSeconds = Math.max(60, Math.round(WINDOWS[q.window]! / 60));
    const series = await latencySeries(c.get('sql'), since(q.window), bucketSeconds, { service, operation: q.operation });
    return c.json({ window: q.window, bucket_seconds: bucketSeconds, series } satisfies LatencySeries, 200);
  });
}
