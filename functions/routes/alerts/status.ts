/**
 * What alerting did: instances by state, the transition history, the delivery ledger, the
 * evaluator's runs. The rows are returned as stored (shared/alerting/schema.ts describes them):
 * their Dates are ISO 8601 strings in the JSON.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../../shared/api';
import {
  AlertStateSchema,
  DeliveryStatusSchema,
  EvaluationRunSchema,
  HistoryRecordSchema,
  LedgerEntrySchema,
  listHistory,
  listInstances,
  listNotifications,
  recentEvaluations,
  StoredInstanceSchema,
} from '../../../shared/alerting';
import type { App } from '../../types';
import { allServicesReader } from './auth';

const InstancesSchema = z.object({ instances: z.array(StoredInstanceSchema) }).openapi('AlertInstances');
export type AlertInstances = z.infer<typeof InstancesSchema>;
const HistorySchema = z.object({ history: z.array(HistoryRecordSchema) }).openapi('AlertHistory');
export type AlertHistory = z.infer<typeof HistorySchema>;
const NotificationsSchema = z.object({ notifications: z.array(LedgerEntrySchema) }).openapi('AlertNotifications');
export type AlertNotifications = z.infer<typeof NotificationsSchema>;
const EvaluationsSchema = z.object({ evaluations: z.array(EvaluationRunSchema) }).openapi('AlertEvaluations');
export type AlertEvaluations = z.infer<typeof EvaluationsSchema>;

const errors = errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE');
const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
  ...errors,
});
const Limit = z.coerce.number().int().min(1).max(1000).default(100);

const routes = {
  instances: createRoute({
    method: 'get',
    path: '/v1/alerts/instances',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ state: AlertStateSchema.optional(), rule: z.string().optional() }) },
    responses: ok(InstancesSchema, 'Alert instances (one per rule and group)'),
  }),
  history: createRoute({
    method: 'get',
    path: '/v1/alerts/history',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ rule: z.string().optional(), limit: Limit }) },
    responses: ok(HistorySchema, 'State changes, newest first (silenced ones flagged)'),
  }),
  notifications: createRoute({
    method: 'get',
    path: '/v1/alerts/notifications',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ rule: z.string().optional(), status: DeliveryStatusSchema.optional(), limit: Limit }) },
    responses: ok(NotificationsSchema, 'The delivery ledger: attempts, status and last error per notification and contact point'),
  }),
  evaluations: createRoute({
    method: 'get',
    path: '/v1/alerts/evaluations',
    security: [{ bearer: [] }],
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ limit: Limit }) },
    responses: ok(EvaluationsSchema, 'The evaluator runs, newest first (skipped minutes included)'),
  }),
};

export function registerAlertStatus(app: App) {
  app.openapi(routes.instances, async (c) => {
    const q = c.req.valid('query');
    const instances = await listInstances(c.get('sql'), { rules: q.rule ? [q.rule] : undefined, states: q.state ? [q.state] : undefined });
    return c.json({ instances }, 200);
  });
  app.openapi(routes.history, async (c) => c.json({ history: await listHistory(c.get('sql'), c.req.valid('query')) }, 200));
  app.openapi(routes.notifications, async (c) =>
    c.json({ notifications: await listNotifications(c.get('sql'), c.req.valid('query')) }, 200),
  );
  app.openapi(routes.evaluations, async (c) =>
    c.json({ evaluations: await recentEvaluations(c.get('sql'), c.req.valid('query').limit) }, 200),
  );
}
