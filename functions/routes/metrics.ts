/** GET /metrics: the pipeline's own health in the Prometheus text format (a `read` key). */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../shared/api';
import { pipelineMetrics, prometheusText } from '../../shared/alerting';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';

const route = createRoute({
  method: 'get',
  path: '/metrics',
  security: [{ bearer: [] }],
  responses: {
    200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain; version=0.0.4': { schema: z.string() } } },
    ...errorResponses('UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

export function registerMetrics(app: App) {
  app.use('/metrics', requireKey('read'));
  app.openapi(route, async (c) => {
    const text = prometheusText(await pipelineMetrics(c.get('sql'), new Date()));
    return c.text(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
