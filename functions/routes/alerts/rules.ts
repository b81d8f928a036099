/**
 * /v1/alerts/rules: alert rules (reading needs a `read` key for every service, changing an
 * `admin` key). A rule names contact points and mute timings that must exist.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError, errorResponses } from '../../../shared/api';
import {
  AlertStateSchema,
  deleteRule,
  existingNames,
  listInstances,
  listRules,
  previewRule,
  RuleSchema,
  SeveritySchema,
  StoredInstanceSchema,
  StoredRuleSchema,
  upsertRule,
  type Rule,
  NameSchema,
} from '../../../shared/alerting';
import type { Sql } from '../../../shared/db/client';
import type { App } from '../../types';
import { adminKey, allServicesReader } from './auth';

const NameParam = z.object({ name: NameSchema });

const InstanceSchema = StoredInstanceSchema.pick({
  groupKey: true,
  labels: true,
  state: true,
  severity: true,
  since: true,
  value: true,
  threshold: true,
  samples: true,
}).openapi('AlertInstance');
export type AlertInstance = z.infer<typeof InstanceSchema>;

// `rule` is RuleSchema as documented for the request (zod-to-openapi renders a schema's input
// side): a stored rule is its parsed output, so every field with a default is present, though the
// document does not list those as required.
const RuleWithInstancesSchema = StoredRuleSchema.pick({ rule: true, updatedAt: true, updatedBy: true })
  .extend({ instances: z.array(InstanceSchema) })
  .openapi('StoredAlertRule');
const RulesSchema = z.object({ rules: z.array(RuleWithInstancesSchema) }).openapi('AlertRules');
export type AlertRules = z.infer<typeof RulesSchema>;

const list = createRoute({
  method: 'get',
  path: '/v1/alerts/rules',
  security: [{ bearer: [] }],
  middleware: [allServicesReader()] as const,
  responses: {
    200: { description: 'Every rule with its instances', content: { 'application/json': { schema: RulesSchema } } },
    ...errorResponses('UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

const put = createRoute({
  method: 'put',
  path: '/v1/alerts/rules/{name}',
  security: [{ bearer: [] }],
  middleware: [adminKey()] as const,
  request: { params: NameParam, body: { content: { 'application/json': { schema: RuleSchema } }, required: true } },
  responses: {
    200: { description: 'Saved (created or replaced)', content: { 'application/json': { schema: z.object({ saved: z.string() }) } } },
    ...errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

const del = createRoute({
  method: 'delete',
  path: '/v1/alerts/rules/{name}',
  security: [{ bearer: [] }],
  middleware: [adminKey()] as const,
  request: { params: NameParam },
  responses: {
    200: {
      description: 'Deleted, with its instances (history is kept)',
      content: { 'application/json': { schema: z.object({ deleted: z.string() }) } },
    },
    ...errorResponses('UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'DATABASE_UNAVAILABLE'),
  },
});

const PreviewSchema = z
  .object({
    stepMinutes: z.number().int(),
    evaluations: z.number().int(),
    transitions: z.array(
      z.object({
        minute: z.iso.datetime(),
        group: z.string(),
        from: AlertStateSchema,
        to: AlertStateSchema,
        severity: SeveritySchema.nullable(),
        value: z.number().nullable(),
      }),
    ),
  })
  .openapi('AlertPreview');
export type AlertPreview = z.infer<typeof PreviewSchema>;

const preview = createRoute({
  method: 'post',
  path: '/v1/alerts/preview',
  description: 'Runs a rule over the last `hours` (1-24) without saving it: when it would have fired and resolved.',
  security: [{ bearer: [] }],
  middleware: [allServicesReader()] as const,
  request: {
    body: {
      content: { 'application/json': { schema: z.object({ rule: RuleSchema, hours: z.number().int().min(1).max(24).default(6) }) } },
      required: true,
    },
  },
  responses: {
    200: { description: 'The transitions it would have made', content: { 'application/json': { schema: PreviewSchema } } },
    ...errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

/** 400 naming each contact point or mute timing the rule refers to that does not exist. */
export async function checkReferences(sql: Sql, rule: Rule, path: (string | number)[] = []): Promise<void> {
  const [cps, mts] = await Promise.all([
    existingNames(sql, 'contact_points', rule.contactPoints),
    existingNames(sql, 'mute_timings', rule.muteTimings),
  ]);
  const issues = [
    ...rule.contactPoints.flatMap((n, i) =>
      cps.has(n)
        ? []
        : [{ path: [...path, 'contactPoints', i].join('.'), code: 'unknown_contact_point', message: `no contact point "${n}"` }],
    ),
    ...rule.muteTimings.flatMap((n, i) =>
      mts.has(n) ? [] : [{ path: [...path, 'muteTimings', i].join('.'), code: 'unknown_mute_timing', message: `no mute timing "${n}"` }],
    ),
  ];
  if (issues.length) throw new ApiError('BAD_REQUEST', 'the rule refers to what does not exist', { issues });
}

function instanceView(i: Awaited<ReturnType<typeof listInstances>>[number]): AlertInstance {
  const { groupKey, labels, state, severity, since, value, threshold, samples } = i;
  return { groupKey, labels, state, severity, since, value, threshold, samples };
}

export function registerAlertRules(app: App) {
  app.openapi(list, async (c) => {
    const sql = c.get('sql');
    const [rules, instances] = await Promise.all([listRules(sql), listInstances(sql)]);
    return c.json(
      {
        rules: rules.map((r) => ({
          rule: r.rule,
          updatedAt: r.updatedAt,
          updatedBy: r.updatedBy,
          instances: instances.filter((i) => i.rule === r.rule.name).map(instanceView),
        })),
      },
      200,
    );
  });
  app.openapi(put, async (c) => {
    const { name } = c.req.valid('param');
    const rule = c.req.valid('json') as Rule;
    if (rule.name !== name) {
      throw new ApiError('BAD_REQUEST', 'the rule is named differently from its path', {
        issues: [{ path: 'name', code: 'name_mismatch', message: `expected "${name}", got "${rule.name}"` }],
      });
    }
    await checkReferences(c.get('sql'), rule);
    await upsertRule(c.get('sql'), rule, c.get('apiKey').id);
    return c.json({ saved: name }, 200);
  });
  app.openapi(preview, async (c) => {
    const { rule, hours } = c.req.valid('json');
    return c.json(await previewRule(c.get('sql'), rule as Rule, new Date(), hours), 200);
  });
  app.openapi(del, async (c) => {
    const { name } = c.req.valid('param');
    if (!(await deleteRule(c.get('sql'), name))) throw new ApiError('NOT_FOUND', `no rule "${name}"`);
    return c.json({ deleted: name }, 200);
  });
}
