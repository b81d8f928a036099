/**
 * Contact points, mute timings and silences (admin keys change them; read keys for every service
 * read them), and the test button: a test notification through the same outbox and QStash path.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError, errorResponses } from '../../../shared/api';
import {
  ContactPointSchema,
  ContactPointSummarySchema,
  createSilence,
  deleteContactPoint,
  existingNames,
  expireSilence,
  insertNotifications,
  listContactPoints,
  listMuteTimings,
  listSilences,
  MuteTimingSchema,
  SilenceInputSchema,
  SilenceSchema,
  testNotification,
  upsertContactPoint,
  upsertMuteTiming,
  type ContactPoint,
  type MuteTiming,
  NameSchema,
} from '../../../shared/alerting';
import { publicBase, publishDeliveries } from '../../../shared/qstash';
import type { App } from '../../types';
import { adminKey, allServicesReader } from './auth';

const NameParam = z.object({ name: NameSchema });
const errors = errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'DATABASE_UNAVAILABLE');
const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
  ...errors,
});
const bearer = [{ bearer: [] }];

const routes = {
  listCps: createRoute({
    method: 'get',
    path: '/v1/alerts/contact-points',
    security: bearer,
    middleware: [allServicesReader()] as const,
    responses: ok(z.object({ contactPoints: z.array(ContactPointSummarySchema) }), 'Without secrets'),
  }),
  putCp: createRoute({
    method: 'put',
    path: '/v1/alerts/contact-points/{name}',
    security: bearer,
    middleware: [adminKey()] as const,
    request: { params: NameParam, body: { content: { 'application/json': { schema: ContactPointSchema } }, required: true } },
    responses: ok(z.object({ saved: z.string() }), 'Saved'),
  }),
  delCp: createRoute({
    method: 'delete',
    path: '/v1/alerts/contact-points/{name}',
    security: bearer,
    middleware: [adminKey()] as const,
    request: { params: NameParam },
    responses: ok(z.object({ deleted: z.string() }), 'Deleted'),
  }),
  testCp: createRoute({
    method: 'post',
    path: '/v1/alerts/contact-points/{name}/test',
    security: bearer,
    middleware: [adminKey()] as const,
    request: { params: NameParam },
    responses: ok(z.object({ id: z.string(), published: z.boolean() }), 'Queued: follow it in /v1/alerts/notifications'),
  }),
  listMt: createRoute({
    method: 'get',
    path: '/v1/alerts/mute-timings',
    security: bearer,
    middleware: [allServicesReader()] as const,
    responses: ok(z.object({ muteTimings: z.array(MuteTimingSchema) }), 'Every mute timing'),
  }),
  putMt: createRoute({
    method: 'put',
    path: '/v1/alerts/mute-timings/{name}',
    security: bearer,
    middleware: [adminKey()] as const,
    request: { params: NameParam, body: { content: { 'application/json': { schema: MuteTimingSchema } }, required: true } },
    responses: ok(z.object({ saved: z.string() }), 'Saved'),
  }),
  listSilences: createRoute({
    method: 'get',
    path: '/v1/alerts/silences',
    security: bearer,
    middleware: [allServicesReader()] as const,
    request: { query: z.object({ all: z.enum(['true', 'false']).default('false') }) },
    responses: ok(z.object({ silences: z.array(SilenceSchema) }), 'Active and future silences (all=true: also ended)'),
  }),
  postSilence: createRoute({
    method: 'post',
    path: '/v1/alerts/silences',
    security: bearer,
    middleware: [adminKey()] as const,
    request: { body: { content: { 'application/json': { schema: SilenceInputSchema } }, required: true } },
    responses: ok(SilenceSchema, 'Created'),
  }),
  delSilence: createRoute({
    method: 'delete',
    path: '/v1/alerts/silences/{id}',
    security: bearer,
    middleware: [adminKey()] as const,
    request: { params: z.object({ id: z.uuid() }) },
    responses: ok(z.object({ expired: z.string() }), 'Ended now'),
  }),
};

function sameName(path: string, body: string) {
  if (path !== body)
    throw new ApiError('BAD_REQUEST', 'the body is named differently from its path', {
      issues: [{ path: 'name', code: 'name_mismatch', message: `expected "${path}", got "${body}"` }],
    });
}

export function registerAlertConfig(app: App) {
  app.openapi(routes.listCps, async (c) => c.json({ contactPoints: await listContactPoints(c.get('sql')) }, 200));
  app.openapi(routes.putCp, async (c) => {
    const cp = c.req.valid('json') as ContactPoint;
    sameName(c.req.valid('param').name, cp.name);
    await upsertContactPoint(c.get('sql'), cp);
    return c.json({ saved: cp.name }, 200);
  });
  app.openapi(routes.delCp, async (c) => {
    const { name } = c.req.valid('param');
    if (!(await deleteContactPoint(c.get('sql'), name))) throw new ApiError('NOT_FOUND', `no contact point "${name}"`);
    return c.json({ deleted: name }, 200);
  });
  app.openapi(routes.testCp, async (c) => {
    const { name } = c.req.valid('param');
    const sql = c.get('sql');
    if (!(await existingNames(sql, 'contact_points', [name])).has(name)) throw new ApiError('NOT_FOUND', `no contact point "${name}"`);
    const settings = c.get('settings');
    const base = publicBase(settings, c.req.url);
    const id = crypto.randomUUID();
    await insertNotifications(sql, [
      { id, rule: null, contact_point: name, kind: 'test', payload: testNotification(name, base, new Date()) },
    ]);
    const published = (await publishDeliveries(settings, base, [id]).catch(() => [])).length === 1;
    return c.json({ id, published }, 200);
  });
  app.openapi(routes.listMt, async (c) => c.json({ muteTimings: await listMuteTimings(c.get('sql')) }, 200));
  app.openapi(routes.putMt, async (c) => {
    const m = c.req.valid('json') as MuteTiming;
    sameName(c.req.valid('param').name, m.name);
    await upsertMuteTiming(c.get('sql'), m);
    return c.json({ saved: m.name }, 200);
  });
  app.openapi(routes.listSilences, async (c) =>
    c.json({ silences: await listSilences(c.get('sql'), new Date(), c.req.valid('query').all === 'true') }, 200),
  );
  app.openapi(routes.postSilence, async (c) => {
    const s = c.req.valid('json');
    const silence = await createSilence(c.get('sql'), {
      matchers: s.matchers,
      startsAt: s.startsAt ? new Date(s.startsAt) : new Date(),
      endsAt: new Date(s.endsAt),
      comment: s.comment,
      createdBy: c.get('apiKey').id,
    });
    return c.json(silence, 200);
  });
  app.openapi(routes.delSilence, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await expireSilence(c.get('sql'), id))) throw new ApiError('NOT_FOUND', `no active silence ${id}`);
    return c.json({ expired: id }, 200);
  });
}
