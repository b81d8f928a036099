/**
 * GET /health: whether the database answers, and whether the alert evaluator keeps up (its
 * dead-man's switch: `alerts.stalled` once no minute was evaluated for 3 minutes).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { EVALUATOR_STALLED_AFTER_SECONDS, lastEvaluatedMinute } from '../../shared/alerting';
import { ping } from '../../shared/db/client';
import type { App } from '../types';

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    database: z.enum(['ok', 'unreachable']),
    alerts: z
      .object({ lastEvaluatedMinute: z.string().nullable(), lagSeconds: z.number().nullable(), stalled: z.boolean() })
      .optional()
      .openapi({ description: 'The alert evaluator: stalled when its last evaluated minute is over 3 minutes old' }),
  })
  .openapi('Health');
export type HealthResponse = z.infer<typeof HealthSchema>;

const route = createRoute({
  method: 'get',
  path: '/health',
  responses: {
    200: { description: 'The database answers', content: { 'application/json': { schema: HealthSchema } } },
    503: { description: 'The database is unreachable', content: { 'application/json': { schema: HealthSchema } } },
  },
});

export function registerHealth(app: App) {
  app.openapi(route, async (c) => {
    try {
      await ping(c.get('sql'));
    } catch {
      return c.json({ status: 'unavailable', database: 'unreachable' } as const, 503);
    }
    const last = await lastEvaluatedMinute(c.get('sql')).catch(() => null);
    const lagSeconds = last ? Math.round((Date.now() - last.getTime()) / 1000) : null;
    const alerts = {
      lastEvaluatedMinute: last?.toISOString() ?? null,
      lagSeconds,
      stalled: lagSeconds === null || lagSeconds > EVALUATOR_STALLED_AFTER_SECONDS,
    };
    return c.json({ status: 'ok', database: 'ok', alerts } as const, 200);
  });
}
