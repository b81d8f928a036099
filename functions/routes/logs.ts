/**
 * GET /v1/logs: search (keys with the `read` scope), newest first, in cursor pages. Active and
 * archived days are read together. The filters are shared with GET /v1/tail.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError, errorResponses, LEVELS, LevelSchema } from '../../shared/api';
import {
  decodeToken,
  encodeToken,
  InvalidCursorError,
  LogRecordSchema,
  searchLogs,
  type LogCursor,
  type LogFilter,
} from '../../shared/query';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';

const Timestamp = z.iso.datetime({ offset: true });
const FILTERS = ['service', 'level', 'event_type', 'correlation_id', 'from', 'to', 'q', 'cursor', 'limit'];

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
      if (!FILTERS.includes(key) && !/^data\.[A-Za-z0-9_.-]{1,100}$/.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `unknown filter "${key}"; structured fields are filtered as data.<field>=<value>`,
        });
      }
    }
  })
  .openapi({ description: 'Filters; also data.<field>=<value> for structured fields (JSONB containment)' });
export type LogsQuery = z.infer<typeof LogsQuery>;

const LogsPageSchema = z.object({ logs: z.array(LogRecordSchema), nextCursor: z.string().nullable() }).openapi('LogsPage');
export type LogsPage = z.infer<typeof LogsPageSchema>;

const route = createRoute({
  method: 'get',
  path: '/v1/logs',
  security: [{ bearer: [] }],
  request: { query: LogsQuery },
  responses: {
    200: { description: 'A page of logs, newest first', content: { 'application/json': { schema: LogsPageSchema } } },
    ...errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

/** A cursor (or Last-Event-ID) the API issued, as its pair; 400 naming `path` otherwise. */
export function decodeCursorParam(s: string, path: string): [string, string] {
  try {
    return decodeToken(s);
  } catch (error) {
    if (!(error instanceof InvalidCursorError)) throw error;
    throw new ApiError('BAD_REQUEST', `${path} is not one this API issued`, {
      issues: [{ path, code: 'invalid_cursor', message: 'use the cursor (or event id) the API gave you' }],
    });
  }
}

/** A key scoped to one service reads that service only. */
export function scopedServices(keyService: string, requested: string[] | undefined): string[] | undefined {
  if (keyService === '*') return requested;
  if (requested?.some((s) => s !== keyService)) {
    throw new ApiError('FORBIDDEN', `this API key may only read service "${keyService}"`);
  }
  return [keyService];
}

function dataValue(v: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

/** The filters of /v1/logs (and /v1/tail) as a LogFilter, narrowed to the key's service. */
export function filterFromQuery(q: LogsQuery, keyService: string): LogFilter {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(q)) if (k.startsWith('data.')) data[k.slice(5)] = dataValue(String(v));
  const requested = q.service
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    services: scopedServices(keyService, requested),
    levels: q.level ? LEVELS.slice(LEVELS.indexOf(q.level)) : undefined,
    eventType: q.event_type,
    correlationId: q.correlation_id,
    from: q.from,
    to: q.to,
    text: q.q,
    data,
  };
}

function decodeCursor(s: string): LogCursor {
  const [timestamp, id] = decodeCursorParam(s, 'cursor');
  return { timestamp, id };
}

export function registerLogs(app: App) {
  app.use('/v1/logs', requireKey('read'));
  app.openapi(route, async (c) => {
    const q = c.req.valid('query');
    const filter = filterFromQuery(q, c.get('apiKey').service);
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await c.get('read')((sql) => searchLogs(sql, filter, cursor, q.limit));
    const last = rows.at(-1);
    const logs = rows.map((r) => ({ ...r, received_at: new Date(r.received_at).toISOString() })) as LogsPage['logs'];
    return c.json({ logs, nextCursor: rows.length === q.limit && last ? encodeToken([last.timestamp, last.id]) : null }, 200);
  });
}
