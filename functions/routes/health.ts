/** GET /health: whether the database answers. */
import { createRoute, z } from '@hono/zod-openapi';
import { ping } from '../../shared/db/client';
import type { App } from '../types';

const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']), database: z.enum(['ok', 'unreachable']) }).openapi('Health');
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
      return c.json({ status: 'ok', database: 'ok' } as const, 200);
    } catch {
      return c.json({ status: 'unavailable', database: 'unreachable' } as const, 503);
    }
  });
}
