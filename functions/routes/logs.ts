import { createRoute, z } from '@hono/zod-openapi';
import { errorStats, performanceStats, searchLogs, traceEvents, type LogCursor, type LogFilter } from '../../shared/query/sql';
import { ApiError } from '../../shared/api/errors';
import { LEVELS, LevelSchema } from '../../shared/api/wire';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';

const WINDOWS: Record<string, number> = { '15m': 900, '1h': 3600, '6h': 21_600, '24h': 86_400, '7d': 604_800, '30d': 2_592_000, '90d': 7_776_000 };
const Window = z.enum(Object.keys(WINDOWS) as [string, ...string[]]).default('24h').openapi({ description: 'How far back' });
const Timestamp = z.iso.datetime({ offset: true });

export const LogsQuery = z
  .object({
    service: z.string().optional().openapi({ description: 'One service, or several separated by commas' }),
    level: LevelSchema.optional().openapi({ description: 'Minimum level' }),
    event_type: z.string().max(50).optional(),
    correlation_id: z.string().max(100).optional(),
    from: Timestamp.optional().openapi({ description: 'Inclusive, RFC 3339' }),
    to: Timestamp.optional().openapi({ description: 'Exclusive, RFC 3339' }),
    q: z.string().min(1).max(200).optional().openapi({ description: 'Text in the message (case-insensitive)' }),
    cursor: z.string().optional().openapi({ description: 'nextCursor of the previous page' }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .catchall(z.string())
  .superRefine((q, ctx) => {
    for (const key of Object.keys(q)) {
      if (!(key in LogsQueryShape) && !/^data\.[A-Za-z0-9_.-]{1,100}$/.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `unknown filter "${key}"; structured fields are filtered as data.<field>=<value>` });
      }
    }
  })
  .openapi({ description: 'Filters; also data.<field>=<value> for structured fields (JSONB containment)' });
const LogsQueryShape = { service: 1, level: 1, event_type: 1, correlation_id: 1, from: 1, to: 1, q: 1, cursor: 1, limit: 1 };

const LogRecord = z.object({
  id: z.string(), timestamp: z.string(), received_at: z.string(), service: z.string(), level: z.enum(LEVELS), message: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(), correlation_id: z.string().nullable(), event_type: z.string().nullable(), archived: z.boolean(),
}).openapi('LogRecord');
const LogsPage = z.object({ logs: z.array(LogRecord), nextCursor: z.string().nullable() }).openapi('LogsPage');
const ErrorEnvelope = z.object({ code: z.string(), message: z.string(), requestId: z.string(), issues: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional() }).openapi('Error');
const errors = { 400: { description: 'Bad filter', content: { 'application/json': { schema: ErrorEnvelope } } }, 401: { description: 'No valid key', content: { 'application/json': { schema: ErrorEnvelope } } }, 403: { description: 'Key lacks the read scope', content: { 'application/json': { schema: ErrorEnvelope } } } };
const security = [{ bearer: [] }];

/** An opaque cursor: base64url of [timestamp, uuid]. */
export function encodeToken(pair: [string, string]): string {
  return btoa(JSON.stringify(pair)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeToken(s: string, path: string): [string, string] {
  try {
    const [ts, id] = JSON.parse(atob(s.replace(/-/g, '+').replace(/_/g, '/'))) as [string, string];
    if (!Timestamp.safeParse(ts).success || !/^[0-9a-f-]{36}$/.test(id)) throw new Error();
    return [ts, id];
  } catch {
    throw new ApiError('BAD_REQUEST', `${path} is not one this API issued`, { issues: [{ path, code: 'invalid_cursor', message: 'use the cursor (or event id) the API gave you' }] });
  }
}

function encodeCursor(c: LogCursor): string {
  return encodeToken([c.timestamp, c.id]);
}

function decodeCursor(s: string): LogCursor {
  const [timestamp, id] = decodeToken(s, 'cursor');
  return { timestamp, id };
}

/** The filters of /v1/logs (and /v1/tail) as a LogFilter, narrowed to the key's service. */
export function filterFromQuery(q: z.infer<typeof LogsQuery>, keyService: string): LogFilter {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(q)) if (k.startsWith('data.')) data[k.slice(5)] = dataValue(String(v));
  return {
    services: scopedServices(keyService, q.service?.split(',').map((s) => s.trim()).filter(Boolean)),
    levels: q.level ? LEVELS.slice(LEVELS.indexOf(q.level)) : undefined,
    eventType: q.event_type,
    correlationId: q.correlation_id,
    from: q.from,
    to: q.to,
    text: q.q,
    data,
  };
}

function dataValue(v: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

function since(window: string): string {
  return new Date(Date.now() - WINDOWS[window]! * 1000).toISOString();
}

/** A key scoped to one service reads that service only. */
function scopedServices(keyService: string, requested: string[] | undefined): string[] | undefined {
  if (keyService === '*') return requested;
  if (requested && requested.some((s) => s !== keyService)) {
    throw new ApiError('FORBIDDEN', `this API key may only read service "${keyService}"`);
  }
  return [keyService];
}

/**
 * Read API (keys with the `read` scope): GET /v1/logs (search, newest first, cursor pages),
 * GET /v1/traces/{correlation_id}, GET /v1/stats/performance, GET /v1/stats/errors.
 * Active and archived days are read together.
 */
export function registerQuery(app: App) {
  for (const path of ['/v1/logs', '/v1/traces/*', '/v1/stats/*']) app.use(path, requireKey('read'));

  app.openapi(
    createRoute({ method: 'get', path: '/v1/logs', security, request: { query: LogsQuery }, responses: { 200: { description: 'A page of logs, newest first', content: { 'application/json': { schema: LogsPage } } }, ...errors } }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await searchLogs(c.get('sql'), filterFromQuery(q, c.get('apiKey').service), q.cursor ? decodeCursor(q.cursor) : undefined, q.limit as number);
      const last = rows.at(-1);
      return c.json({ logs: rows.map((r) => ({ ...r, received_at: new Date(r.received_at).toISOString() })) as z.infer<typeof LogRecord>[], nextCursor: rows.length === q.limit && last ? encodeCursor(last) : null }, 200);
    },
  );

  const TraceEvent = z.object({
    kind: z.enum(['log', 'metric']), id: z.string(), timestamp: z.string(), offset_ms: z.number(), service: z.string(),
    level: z.string().nullable(), message: z.string().nullable(), operation: z.string().nullable(), duration_ms: z.number().nullable(),
    data: z.record(z.string(), z.unknown()).nullable(), event_type: z.string().nullable(),
  }).openapi('TraceEvent');
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/traces/{correlation_id}', security,
      request: { params: z.object({ correlation_id: z.string().min(1).max(100) }) },
      responses: { 200: { description: 'Every log and metric of the correlation id, oldest first', content: { 'application/json': { schema: z.object({ correlation_id: z.string(), started_at: z.string().nullable(), duration_ms: z.number(), events: z.array(TraceEvent) }).openapi('Trace') } } }, ...errors },
    }),
    async (c) => {
      const { correlation_id } = c.req.valid('param');
      const keyService = c.get('apiKey').service;
      const events = (await traceEvents(c.get('sql'), correlation_id)).filter((e) => keyService === '*' || e.service === keyService);
      const start = events.length ? Date.parse(events[0]!.timestamp) : 0;
      const end = events.reduce((m, e) => Math.max(m, Date.parse(e.timestamp) + (e.execution_time_ms ?? 0)), start);
      return c.json({
        correlation_id,
        started_at: events[0]?.timestamp ?? null,
        duration_ms: end - start,
        events: events.map(({ execution_time_ms, ...e }) => ({ ...e, offset_ms: Date.parse(e.timestamp) - start, duration_ms: execution_time_ms })),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/stats/performance', security,
      request: { query: z.strictObject({ window: Window, service: z.string().optional(), operation: z.string().optional() }) },
      responses: { 200: { description: 'Latency by service and operation', content: { 'application/json': { schema: z.object({ window: z.string(), operations: z.array(z.object({ service: z.string(), operation: z.string(), count: z.number(), avg_ms: z.number(), p50_ms: z.number(), p95_ms: z.number(), p99_ms: z.number(), max_ms: z.number() })) }).openapi('PerformanceStats') } } }, ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const service = scopedServices(c.get('apiKey').service, q.service ? [q.service] : undefined)?.[0];
      return c.json({ window: q.window, operations: await performanceStats(c.get('sql'), since(q.window), { service, operation: q.operation }) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/stats/errors', security,
      request: { query: z.strictObject({ window: Window, service: z.string().optional() }) },
      responses: { 200: { description: 'ERROR and CRITICAL counts by service and level, and per time bucket', content: { 'application/json': { schema: z.object({ window: z.string(), bucket_seconds: z.number(), by_service: z.array(z.object({ service: z.string(), level: z.string(), count: z.number(), last_occurrence: z.string() })), buckets: z.array(z.object({ bucket: z.string(), count: z.number() })) }).openapi('ErrorStats') } } }, ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const service = scopedServices(c.get('apiKey').service, q.service ? [q.service] : undefined)?.[0];
      const bucketSeconds = Math.max(60, Math.round(WINDOWS[q.window]! / 60));
      const stats = await errorStats(c.get('sql'), since(q.window), bucketSeconds, service);
      return c.json({ window: q.window, bucket_seconds: bucketSeconds, by_service: stats.byService, buckets: stats.buckets }, 200);
    },
  );
}
