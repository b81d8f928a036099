/**
 * POST /v1/ingest: a batch of system logs and/or performance metrics (shared/api/wire.ts).
 * Valid records are stored, invalid ones reported by index (200 with `rejected`); a malformed
 * request as a whole is 400, too large 413, not JSON 415. When the database cannot take the batch,
 * its valid records go to QStash (202 with `queued`), or, if QStash cannot take them either, 503.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  ApiError,
  databaseUnavailable,
  errorResponses,
  IngestEnvelopeSchema,
  IngestResponseSchema,
  MetricSchema,
  SystemLogSchema,
  toRecordIssues,
  type IngestResponse,
} from '../../shared/api';
import { isTransientDbError } from '../../shared/db/transient';
import { BodyError, insertBatch, mayNeedSanitizing, readTextBody, validateBatch, type ValidatedBatch } from '../../shared/ingest';
import { publicBase, publishForReplay, QueueUnavailableError } from '../../shared/qstash';
import { DAY_MS } from '../../shared/time';
import { requireKey } from '../middleware/auth';
import { limitKey } from '../middleware/limits';
import type { App, AppEnv } from '../types';

export type { IngestResponse };

// The wire schemas, with the parts whose runtime checks OpenAPI cannot describe spelled out.
const docFields = {
  data: z.record(z.string(), z.unknown()).nullish().openapi({ description: 'Structured fields (JSONB)' }),
  timestamp: z
    .union([z.string().openapi({ format: 'date-time' }), z.number().int()])
    .optional()
    .openapi({ description: 'RFC 3339 with an offset, or epoch ms' }),
};

/** The contract. The handler reads and checks the body itself (gzip, size caps, per-record validation). */
const route = createRoute({
  method: 'post',
  path: '/v1/ingest',
  description:
    'A batch of system logs and/or performance metrics (at most 1,000 records and 1 MiB after gzip decoding; Content-Encoding: gzip accepted). Valid records are stored, invalid ones reported by index.',
  security: [{ bearer: [] }],
  request: {
    body: {
      content: {
        'application/json': {
          schema: z.object({
            logs: z.array(SystemLogSchema.extend(docFields).openapi('SystemLog')).optional(),
            metrics: z.array(MetricSchema.extend(docFields).openapi('Metric')).optional(),
          }),
        },
      },
    },
  },
  responses: {
    200: { description: 'Stored (partial success: see rejected)', content: { 'application/json': { schema: IngestResponseSchema } } },
    202: {
      description: 'The database could not take the batch now; its valid records were queued for replay',
      content: { 'application/json': { schema: IngestResponseSchema } },
    },
    ...errorResponses(
      'BAD_REQUEST',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      'QUOTA_EXCEEDED',
      'DATABASE_UNAVAILABLE',
    ),
  },
});

const BODY_ERRORS = { too_large: 'PAYLOAD_TOO_LARGE', unsupported_encoding: 'UNSUPPORTED_MEDIA_TYPE', unreadable: 'BAD_REQUEST' } as const;

/** The request's envelope, parsed and checked as a whole (records are checked one by one later). */
async function readEnvelope(c: Context<AppEnv>): Promise<{ text: string; envelope: z.infer<typeof IngestEnvelopeSchema> }> {
  const settings = c.get('settings');
  const contentType = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got "${contentType || 'none'}"`);
  }
  let text: string;
  try {
    text = await readTextBody(c.req.raw, { maxBytes: settings.MAX_BODY_BYTES });
  } catch (error) {
    if (error instanceof BodyError) throw new ApiError(BODY_ERRORS[error.reason], error.message);
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ApiError('BAD_REQUEST', `body is not valid JSON: ${(error as Error).message}`);
  }
  const envelope = IngestEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new ApiError('BAD_REQUEST', 'body must be an object with "logs" and/or "metrics" arrays', {
      issues: toRecordIssues(envelope.error),
    });
  }
  const count = (envelope.data.logs?.length ?? 0) + (envelope.data.metrics?.length ?? 0);
  if (count > settings.MAX_RECORDS_PER_REQUEST) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `batch has ${count} records; the limit is ${settings.MAX_RECORDS_PER_REQUEST} per request`);
  }
  return { text, envelope: envelope.data };
}

/**
 * The database cannot take the batch now: the validated rows (ids fixed) go to QStash, which
 * delivers them to /v1/replay until the database does. 503 when QStash cannot take them either.
 */
async function queueForReplay(c: Context<AppEnv>, batch: ValidatedBatch, dbError: Error): Promise<number> {
  const settings = c.get('settings');
  const logger = c.get('logger');
  const records = batch.logs.length + batch.metrics.length;
  try {
    const messages = await publishForReplay(settings, publicBase(settings, c.req.url), batch.logs, batch.metrics);
    c.get('tally').queued += messages;
    logger.warning('database unavailable; batch queued for replay', { records, messages, error: dbError.message });
    return records;
  } catch (queueError) {
    if (!(queueError instanceof QueueUnavailableError)) throw queueError;
    logger.error('database and queue unavailable; client must retry', {
      records,
      db_error: dbError.message,
      queue_error: queueError.reason,
    });
    throw databaseUnavailable('the database is unavailable and the batch could not be queued; retry later');
  }
}

export function registerIngest(app: App) {
  app.openAPIRegistry.registerPath(route);
  app.post(route.path, requireKey('ingest'), limitKey(), async (c) => {
    const settings = c.get('settings');
    const { text, envelope } = await readEnvelope(c);
    const batch = validateBatch(envelope, {
      service: c.get('apiKey').service,
      nowMs: Date.now(),
      maxFutureSkewMs: settings.MAX_FUTURE_SKEW_SECONDS * 1000,
      maxAgeMs: settings.MAX_RECORD_AGE_DAYS * DAY_MS,
      sanitize: mayNeedSanitizing(text),
    });
    const valid = batch.logs.length + batch.metrics.length;
    const tally = c.get('tally');
    tally.rejected += batch.rejected.length;
    const answer = (inserted: number, queued?: number): IngestResponse => ({
      accepted: valid,
      duplicates: queued === undefined ? valid - inserted : 0,
      sanitized: batch.sanitized,
      rejected: batch.rejected,
      ...(queued === undefined ? {} : { queued }),
    });
    await c.get('charge')(valid);
    if (valid === 0) return c.json(answer(0));
    try {
      const result = await insertBatch(c.get('sql'), batch.logs, batch.metrics);
      tally.accepted += valid;
      return c.json(answer(result.logsInserted + result.metricsInserted));
    } catch (error) {
      if (!isTransientDbError(error)) throw error;
      const queued = await queueForReplay(c, batch, error as Error);
      tally.accepted += valid;
      return c.json(answer(0, queued), 202);
    }
  });
}
