/** What alerting did: instances by state, the transition history, the delivery ledger, the evaluator's runs. */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../../shared/api';
import { listHistory, listInstances, listNotifications, recentEvaluations } from '../../../shared/alerting';
import type { App } from '../../types';
import { allServicesReader } from './auth';

const errors = errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE');
const rows = (key: string, description: string) => ({
  200: { description, content: { 'application/json': { schema: z.object({ [key]: z.array(z.record(z.string(), z.unknown())) }) } } },
  ...errors,
});
const Limit = z.coerce.number().int().min(1).max(1000).default(100);
const STATES = ['normal', 'pending', 'firing', 'recovering', 'nodata', 'error'] as const;

const routes = {
  instances: createRoute({
    method: 'get',
    path: '/v1/alerts/instances',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ state: z.enum(STATES).optional(), rule: z.string().optional() }) },
    responses: rows('instances', 'Alert instances (one per rule and group)'),
  }),
  history: createRoute({
    method: 'get',
    path: '/v1/alerts/history',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ rule: z.string().optional(), limit: Limit }) },
    responses: rows('history', 'State changes, newest first (silenced ones flagged)'),
  }),
  notifications: createRoute({
    method: 'get',
    path: '/v1/alerts/notifications',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: {
      query: z.object({
        rule: z.string().optional(),
        status: z.enum(['pending', 'published', 'delivered', 'failed']).optional(),
        limit: Limit,
      }),
    },
    responses: rows('notifications', 'The delivery ledger: attempts, status and last error per notification and contact point'),
  }),
  evaluations: createRoute({
    method: 'get',
    path: '/v1/alerts/evaluations',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ limit: Limit }) },
    responses: rows('evaluations', 'The evaluator runs, newest first (skipped minutes included)'),
  }),
};

type Rows = Record<string, unknown>[];

export function registerAlertStatus(app: App) {
  app.openapi(routes.instances, async (c) => {
    const q = c.req.valid('query');
    const instances = await listInstances(c.get('sql'), { rules: q.rule ? [q.rule] : undefined, states: q.state ? [q.state] : undefined });
    return c.json({ instances: instances as unknown as Rows }, 200);
  });
  app.openapi(routes.history, async (c) =>
    c.json({ history: (await listHistory(c.get('sql'), c.req.valid('query'))) as unknown as Rows }, 200),
  );
  app.openapi(routes.notifications, async (c) =>
    c.json({ notifications: (await listNotifications(c.get('sql'), c.req.valid('query'))) as unknown as Rows }, 200),
  );
  app.openapi(routes.evaluations, async (c) =>
    c.json({ evaluations: (await recentEvaluations(c.get('sql'), c.req.valid('query').limit)) as unknown as Rows }, 200),
  );
}
