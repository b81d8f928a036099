/**
 * API keys through the API, for `admin` keys (which are for every service): list with today's
 * usage and last use, create with limits and expiry, rotate with a grace period, revoke. Each
 * change leaves an audit record naming the admin key.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError, errorResponses } from '../../shared/api';
import { ServiceSchema } from '../../shared/api/wire';
import { audit } from '../../shared/audit';
import { createKey, listKeys, revokeKey, rotateKey, SCOPES } from '../../shared/db/api-keys';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';

const bearer = [{ bearer: [] }];
const errors = errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'DATABASE_UNAVAILABLE');
const IdParam = z.object({ id: z.string().uuid() });
const Positive = z.number().int().positive().nullable().optional();

const KeySchema = z
  .object({
    id: z.string(),
    prefix: z.string(),
    service: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    name: z.string().nullable(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    rotated_to: z.string().nullable(),
    rate_records_per_second: z.number().nullable(),
    rate_requests_per_second: z.number().nullable(),
    daily_quota: z.number().nullable(),
    used_today: z.number(),
  })
  .openapi('ApiKey');
const NewKeySchema = z.object({ id: z.string(), key: z.string().describe('Shown once; only its sha-256 is stored') }).openapi('NewApiKey');
const CreateSchema = z
  .object({
    service: z.union([ServiceSchema, z.literal('*')]),
    scopes: z.array(z.enum(SCOPES)).min(1).default(['ingest']),
    name: z.string().max(200).nullable().optional(),
    rate_records_per_second: Positive,
    rate_requests_per_second: Positive,
    daily_quota: Positive,
    expires_in_days: Positive,
  })
  .openapi('CreateApiKey');

const list = createRoute({
  method: 'get',
  path: '/v1/keys',
  security: bearer,
  middleware: [requireKey('admin')] as const,
  responses: {
    200: { description: 'Every key, without secrets', content: { 'application/json': { schema: z.object({ keys: z.array(KeySchema) }) } } },
    ...errors,
  },
});
const create = createRoute({
  method: 'post',
  path: '/v1/keys',
  security: bearer,
  middleware: [requireKey('admin')] as const,
  request: { body: { content: { 'application/json': { schema: CreateSchema } }, required: true } },
  responses: { 201: { description: 'Created', content: { 'application/json': { schema: NewKeySchema } } }, ...errors },
});
const rotate = createRoute({
  method: 'post',
  path: '/v1/keys/{id}/rotate',
  security: bearer,
  middleware: [requireKey('admin')] as const,
  request: {
    params: IdParam,
    body: {
      content: { 'application/json': { schema: z.object({ grace_seconds: z.number().int().min(0).default(86_400) }) } },
      required: false,
    },
  },
  responses: {
    200: {
      description: 'The new key; the old one stays valid for the grace period',
      content: { 'application/json': { schema: NewKeySchema.extend({ old_key_valid_until: z.string() }) } },
    },
    ...errors,
  },
});
const revoke = createRoute({
  method: 'delete',
  path: '/v1/keys/{id}',
  security: bearer,
  middleware: [requireKey('admin')] as const,
  request: { params: IdParam },
  responses: { 200: { description: 'Revoked', content: { 'application/json': { schema: z.object({ revoked: z.string() }) } } }, ...errors },
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function registerKeys(app: App) {
  app.openapi(list, async (c) => {
    const keys = await listKeys(c.get('sql'));
    return c.json(
      {
        keys: keys.map((k) => ({
          ...k,
          created_at: k.created_at.toISOString(),
          revoked_at: iso(k.revoked_at),
          last_used_at: iso(k.last_used_at),
        })),
      },
      200,
    );
  });
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    if (body.scopes.includes('admin') && body.service !== '*')
      throw new ApiError('BAD_REQUEST', 'an admin key is for every service: create it for "*"');
    const expiresAt = body.expires_in_days ? new Date(Date.now() + body.expires_in_days * 86_400_000) : null;
    const limits = {
      rateRecordsPerSecond: body.rate_records_per_second,
      rateRequestsPerSecond: body.rate_requests_per_second,
      dailyQuota: body.daily_quota,
      expiresAt,
    };
    const created = await createKey(c.get('sql'), { service: body.service, scopes: body.scopes, name: body.name ?? null, ...limits });
    await audit(c.get('sql'), {
      actor: c.get('apiKey').id,
      action: 'key.created',
      target: created.id,
      details: { service: body.service, scopes: body.scopes, ...limits },
    });
    return c.json(created, 201);
  });
  app.openapi(rotate, async (c) => {
    const { id } = c.req.valid('param');
    const graceSeconds = (c.req.valid('json') as { grace_seconds?: number } | undefined)?.grace_seconds ?? 86_400;
    const rotated = await rotateKey(c.get('sql'), id, graceSeconds);
    if (!rotated) throw new ApiError('NOT_FOUND', `no active key with id ${id}`);
    await audit(c.get('sql'), {
      actor: c.get('apiKey').id,
      action: 'key.rotated',
      target: id,
      details: { new_key: rotated.id, old_key_valid_until: rotated.oldExpiresAt },
    });
    return c.json({ id: rotated.id, key: rotated.key, old_key_valid_until: rotated.oldExpiresAt.toISOString() }, 200);
  });
  app.openapi(revoke, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await revokeKey(c.get('sql'), id))) throw new ApiError('NOT_FOUND', `no active key with id ${id}`);
    await audit(c.get('sql'), { actor: c.get('apiKey').id, action: 'key.revoked', target: id });
    return c.json({ revoked: id }, 200);
  });
}
