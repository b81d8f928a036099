import { createRoute } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { ApiError, errorResponses, toRecordIssues } from '../../shared/api';
import { encodeToken, tailLogs, type LogFilter, type TailCursor } from '../../shared/query';
import { requireKey } from '../middleware/auth';
import type { App } from '../types';
import { decodeCursorParam, filterFromQuery, LogsQuery } from './logs';

export interface TailOptions {
  /** Poll interval. Default 1 000 ms (Hyperdrive has no LISTEN/NOTIFY). */
  pollMs?: number;
  /** A stream ends after this long; EventSource reconnects with Last-Event-ID. Default 15 min. */
  maxDurationMs?: number;
  /** Re-read window for batches that commit after later ones. Default 5 000 ms. */
  lagMs?: number;
}

/**
 * GET /v1/tail: Server-Sent Events (`event: log`) of new system logs matching the /v1/logs
 * filters, in arrival order, resuming after `Last-Event-ID` (or `?cursor=`). Polls by cursor and
 * stops when the client goes away.
 */
export function registerTail(app: App, options: TailOptions = {}) {
  const pollMs = options.pollMs ?? 1000;
  const maxDurationMs = options.maxDurationMs ?? 15 * 60_000;
  const lagMs = options.lagMs ?? 5000;

  app.get('/v1/tail', requireKey('read'), async (c) => {
    const parsed = LogsQuery.safeParse(c.req.query()); // the /v1/logs filters (limit and cursor aside)
    if (!parsed.success) throw new ApiError('BAD_REQUEST', 'invalid request parameters', { issues: toRecordIssues(parsed.error) });
    const filter: LogFilter = filterFromQuery(parsed.data, c.get('apiKey').service);
    const resume = c.req.header('last-event-id') ?? parsed.data.cursor;
    let cursor: TailCursor = resume
      ? decodeTail(resume)
      : { receivedAt: new Date().toISOString(), id: '00000000-0000-0000-0000-000000000000' };
    const database = c.get('database');

    return streamSSE(c, async (stream) => {
      // Its own client: the request's one is released when the handler returns, the stream goes on.
      // On the primary, never the replica: the tail re-reads a 5 s window of arrival times so a
      // batch that commits late is not missed, and a replica lagging by more would skip rows.
      const sql = database.acquire();
      const sent = new Map<string, number>();
      const until = Date.now() + maxDurationMs;
      let strict = true;
      // Nothing at or before where the client resumed is sent again, even from the lag window.
      const floor = cursor;
      const afterFloor = (receivedAt: string, id: string) =>
        receivedAt > floor.receivedAt || (receivedAt === floor.receivedAt && id > floor.id);
      let lastPing = Date.now();
      try {
        while (!stream.aborted && Date.now() < until) {
          const from = strict ? cursor : { ...cursor, receivedAt: new Date(Date.parse(cursor.receivedAt) - lagMs).toISOString() };
          const rows = await tailLogs(sql, filter, from, strict, 500);
          strict = false;
          for (const { received_at_text, ...row } of rows) {
            if (sent.has(row.id) || !afterFloor(received_at_text, row.id)) continue;
            sent.set(row.id, Date.parse(received_at_text));
            const id = encodeTail({ receivedAt: received_at_text, id: row.id });
            if (received_at_text > cursor.receivedAt) cursor = { receivedAt: received_at_text, id: row.id };
            await stream.writeSSE({ id, event: 'log', data: JSON.stringify({ ...row, received_at: received_at_text }) });
          }
          const horizon = Date.parse(cursor.receivedAt) - 2 * lagMs;
          for (const [id, at] of sent) if (at < horizon) sent.delete(id);
          if (Date.now() - lastPing > 15_000) {
            await stream.write(': ping\n\n');
            lastPing = Date.now();
          }
          await stream.sleep(rows.length === 500 ? 0 : pollMs);
        }
      } finally {
        await database.release(sql);
      }
    });
  });

  app.openAPIRegistry.registerPath(route);
}

/** Documented only: the filters are checked by hand, since the stream also resumes from Last-Event-ID. */
const route = createRoute({
  method: 'get',
  path: '/v1/tail',
  description:
    'Server-Sent Events (`event: log`, data = a LogRecord) of new logs matching the /v1/logs filters, in arrival order. Resumes after Last-Event-ID.',
  security: [{ bearer: [] }],
  request: { query: LogsQuery },
  responses: {
    200: { description: 'text/event-stream of `event: log` messages' },
    ...errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'),
  },
});

function encodeTail(c: TailCursor): string {
  return encodeToken([c.receivedAt, c.id]);
}

function decodeTail(s: string): TailCursor {
  const [receivedAt, id] = decodeCursorParam(s, 'cursor');
  return { receivedAt, id };
}
