/**
 * OTLP/HTTP logs: POST /otlp/v1/logs, so that `OTEL_EXPORTER_OTLP_ENDPOINT=https://<host>/otlp`
 * works for every OpenTelemetry SDK and collector. JSON bodies (gzip or deflate); the same keys and
 * ingest scope as /v1/ingest. Records are mapped (shared/otlp/logs.ts), validated as /v1/ingest's
 * are, and stored; the ones refused are counted in `partialSuccess` with the reasons. These routes
 * answer errors as a google.rpc.Status, the OTLP contract, and never 500 for a transient failure:
 * a database that cannot take the batch queues it to QStash (answered 200: the records are
 * accepted), or 503 with Retry-After, which OTLP clients retry.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, databaseUnavailable, type ErrorCode } from '../../shared/api';
import { isTransientDbError } from '../../shared/db/transient';
import { BodyError, insertBatch, readTextBody, validateBatch, type ValidatedBatch } from '../../shared/ingest';
import { flattenLogs, OtlpJsonError, parseLogsJson, toWireLogs, type Flattened } from '../../shared/otlp';
import type { LogRecord } from '../../shared/otlp';
import { publicBase, publishForReplay, QueueUnavailableError } from '../../shared/qstash';
import { DAY_MS } from '../../shared/time';
import { requireKey } from '../middleware/auth';
import type { App, AppEnv } from '../types';

/** gRPC status codes for our error codes (google.rpc.Code), as OTLP/HTTP's Status carries them. */
const GRPC_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 3,
  UNAUTHORIZED: 16,
  FORBIDDEN: 7,
  NOT_FOUND: 5,
  PAYLOAD_TOO_LARGE: 8,
  UNSUPPORTED_MEDIA_TYPE: 3,
  DATABASE_UNAVAILABLE: 14,
};

const StatusSchema = z
  .object({ code: z.number().int(), message: z.string(), details: z.array(z.unknown()) })
  .openapi('GoogleRpcStatus', { description: 'google.rpc.Status: the OTLP error body' });

const PartialSuccessSchema = z.object({ rejectedLogRecords: z.string(), errorMessage: z.string() });
const ExportLogsResponseSchema = z
  .object({ partialSuccess: PartialSuccessSchema.optional() })
  .openapi('ExportLogsServiceResponse', { description: '`{}` when every record was accepted' });
export type ExportLogsResponse = z.infer<typeof ExportLogsResponseSchema>;

const status = (description: string) => ({ description, content: { 'application/json': { schema: StatusSchema } } });

const route = createRoute({
  method: 'post',
  path: '/v1/logs',
  description:
    'OTLP/HTTP logs (ExportLogsServiceRequest as OTLP JSON; gzip or deflate). Records refused are counted in partialSuccess with the reasons.',
  security: [{ bearer: [] }],
  request: { body: { content: { 'application/json': { schema: z.object({ resourceLogs: z.array(z.unknown()).optional() }) } } } },
  responses: {
    200: {
      description: 'Accepted (stored, or queued when the database is down)',
      content: { 'application/json': { schema: ExportLogsResponseSchema } },
    },
    400: status('Not an ExportLogsServiceRequest'),
    401: status('No valid key'),
    403: status('The key lacks the ingest scope'),
    413: status('Too large after decompression'),
    415: status('Not application/json, or an unsupported Content-Encoding'),
    503: status('The database and the queue cannot take the batch now; retry after Retry-After'),
  },
});

/** Every error of an /otlp route as a google.rpc.Status (JSON), with Retry-After when it names one. */
function otlpError(error: Error, c: Context<AppEnv>): Response {
  let api: ApiError;
  if (error instanceof ApiError) api = error;
  else if (error instanceof HTTPException && error.status < 500) api = new ApiError('BAD_REQUEST', error.message || 'bad request');
  else if (isTransientDbError(error)) api = databaseUnavailable();
  else {
    c.get('logger')?.exception(error, 'unhandled error', { path: c.req.path });
    api = new ApiError('INTERNAL', 'internal error');
  }
  const headers: Record<string, string> = {};
  if (api.options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(api.options.retryAfterSeconds);
  return c.json({ code: GRPC_CODE[api.code] ?? 13, message: api.message, details: [] }, api.status, headers);
}

const BODY_ERRORS = { too_large: 'PAYLOAD_TOO_LARGE', unsupported_encoding: 'UNSUPPORTED_MEDIA_TYPE', unreadable: 'BAD_REQUEST' } as const;

/** The request's log records, flattened, from its JSON body. */
async function readLogs(c: Context<AppEnv>): Promise<Flattened<LogRecord>> {
  const contentType = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got "${contentType || 'none'}"`);
  }
  let text: string;
  try {
    text = await readTextBody(c.req.raw, { maxBytes: c.get('settings').OTLP_MAX_BODY_BYTES });
  } catch (error) {
    if (error instanceof BodyError) throw new ApiError(BODY_ERRORS[error.reason], error.message);
    throw error;
  }
  try {
    return text.trim() === '' ? flattenLogs({}) : parseLogsJson(JSON.parse(text));
  } catch (error) {
    if (error instanceof OtlpJsonError || error instanceof SyntaxError) throw new ApiError('BAD_REQUEST', error.message);
    throw error;
  }
}

/** The batch, stored; when the database cannot take it, queued to QStash (still accepted). */
async function store(c: Context<AppEnv>, batch: ValidatedBatch): Promise<void> {
  try {
    await insertBatch(c.get('sql'), batch.logs, batch.metrics);
  } catch (error) {
    if (!isTransientDbError(error)) throw error;
    try {
      c.get('tally').queued += await publishForReplay(c.get('settings'), publicBase(c.get('settings'), c.req.url), batch.logs, []);
    } catch (queueError) {
      if (!(queueError instanceof QueueUnavailableError)) throw queueError;
      throw databaseUnavailable('the database is unavailable and the batch could not be queued; retry later');
    }
  }
}

/** The partial success for the records refused, each named by its place in the request and why. */
function partialSuccess(rejected: { index: number; reason: string }[]): ExportLogsResponse {
  if (rejected.length === 0) return {};
  const shown = rejected.slice(0, 20).map((r) => `record ${r.index}: ${r.reason}`);
  const more = rejected.length > shown.length ? `; and ${rejected.length - shown.length} more` : '';
  return { partialSuccess: { rejectedLogRecords: String(rejected.length), errorMessage: shown.join('; ') + more } };
}

export function registerOtlp(app: App) {
  const otlp = new OpenAPIHono<AppEnv>();
  otlp.onError(otlpError);
  // The handler reads the body itself (encodings, caps, per-record checks): the contract is documentation.
  otlp.openAPIRegistry.registerPath(route);
  otlp.post(route.path, requireKey('ingest'), async (c) => {
    const settings = c.get('settings');
    const flat = await readLogs(c);
    if (flat.records.length > settings.OTLP_MAX_RECORDS_PER_REQUEST) {
      throw new ApiError('PAYLOAD_TOO_LARGE', `${flat.records.length} log records; the limit is ${settings.OTLP_MAX_RECORDS_PER_REQUEST}`);
    }
    const wire = await toWireLogs(flat, new Date());
    const readable = wire.flatMap((w, index) => ('invalid' in w ? [] : [{ index, log: w }]));
    const batch = validateBatch(
      { logs: readable.map((r) => r.log) },
      {
        service: c.get('apiKey').service,
        nowMs: Date.now(),
        maxFutureSkewMs: settings.MAX_FUTURE_SKEW_SECONDS * 1000,
        maxAgeMs: settings.MAX_RECORD_AGE_DAYS * DAY_MS,
        sanitize: true,
      },
    );
    const rejected = [
      ...wire.flatMap((w, index) => ('invalid' in w ? [{ index, reason: w.invalid }] : [])),
      ...batch.rejected.map((r) => ({
        index: readable[r.index]!.index,
        reason: r.issues.map((i) => `${i.path || 'record'}: ${i.message}`).join(', '),
      })),
    ].sort((a, b) => a.index - b.index);
    c.get('tally').rejected += rejected.length;
    if (batch.logs.length) await store(c, batch);
    c.get('tally').accepted += batch.logs.length;
    return c.json(partialSuccess(rejected), 200);
  });
  app.route('/otlp', otlp);
}
