/** GET /v1/traces/{correlation_id}: every log and metric of a correlation id, on one timeline. */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../shared/api';
import { TraceEventSchema, traceEvents } from '../../shared/query';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';

const TraceSchema = z
  .object({ correlation_id: z.string(), started_at: z.string().nullable(), duration_ms: z.number(), events: z.array(TraceEventSchema) })
  .openapi('Trace');
export type Trace = z.infer<typeof TraceSchema>;

const route = createRoute({
  method: 'get',
  path: '/v1/traces/{correlation_id}',
  security: [{ bearer: [] }],
  request: { params: z.object({ correlation_id: z.string().min(1).max(100) }) },
  responses: {
    200: {
      description: 'Every log and metric of the correlation id, oldest first',
      content: { 'application/json': { schema: TraceSchema } },
    },
    ...errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

export function registerTraces(app: App) {
  app.use('/v1/traces/*', requireKey('read'));
  app.openapi(route, async (c) => {
    const { correlation_id } = c.req.valid('param');
    const keyService = c.get('apiKey').service;
    const events = (await c.get('read')((sql) => traceEvents(sql, correlation_id))).filter(
      (e) => keyService === '*' || e.service === keyService,
    );
    const start = events.length ? Date.parse(events[0]!.timestamp) : 0;
    const end = events.reduce((m, e) => Math.max(m, Date.parse(e.timestamp) + (e.execution_time_ms ?? 0)), start);
    return c.json(
      {
        correlation_id,
        started_at: events[0]?.timestamp ?? null,
        duration_ms: end - start,
        events: events.map(({ execution_time_ms, ...e }) => ({
          ...e,
          offset_ms: Date.parse(e.timestamp) - start,
          duration_ms: execution_time_ms,
        })),
      },
      200,
    );
  });
}
