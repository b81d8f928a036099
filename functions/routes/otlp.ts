/**
 * OTLP/HTTP: POST /otlp/v1/logs and /otlp/v1/traces, so that `OTEL_EXPORTER_OTLP_ENDPOINT=https://<host>/otlp`
 * works for every OpenTelemetry SDK and collector. JSON bodies (gzip or deflate); the same keys and
 * ingest scope as /v1/ingest. Records are mapped (shared/otlp: logs to system logs, spans to
 * performance records), validated as /v1/ingest's are, and stored; the ones refused are counted in
 * `partialSuccess` with the reasons. These routes
 * answer errors as a google.rpc.Status, the OTLP contract, and never 500 for a transient failure:
 * a database that cannot take the batch queues it to QStash (answered 200: the records are
 * accepted), or 503 with Retry-After, which OTLP clients retry.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, databaseUnavailable, type ErrorCode } from '../../shared/api';
import { isTransientDbError } from '../../shared/db/transient';
import { BodyError, insertBatch, readBodyBytes, validateBatch, type ValidatedBatch } from '../../shared/ingest';
import {
  decodeLogsRequest,
  decodeTraceRequest,
  encodeLogsResponse,
  encodeStatus,
  encodeTraceResponse,
  flattenLogs,
  flattenTraces,
  OtlpJsonError,
  parseLogsJson,
  parseTracesJson,
  ProtobufDecodeError,
  requestDigest,
  toWireLogs,
  toWireMetrics,
  type ExportPartialSuccess,
  type Flattened,
} from '../../shared/otlp';
import { publicBase, publishForReplay, QueueUnavailableError } from '../../shared/qstash';
import { DAY_MS } from '../../shared/time';
import { requireKey } from '../middleware/auth';
import { limitKey } from '../middleware/limits';
import type { App, AppEnv } from '../types';

/** gRPC status codes for our error codes (google.rpc.Code), as OTLP/HTTP's Status carries them. */
const GRPC_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 3,
  UNAUTHORIZED: 16,
  FORBIDDEN: 7,
  NOT_FOUND: 5,
  PAYLOAD_TOO_LARGE: 8,
  RATE_LIMITED: 8, // RESOURCE_EXHAUSTED: the SDKs retry a 429 after Retry-After
  QUOTA_EXCEEDED: 8,
  UNSUPPORTED_MEDIA_TYPE: 3,
  DATABASE_UNAVAILABLE: 14,
};

const StatusSchema = z
  .object({ code: z.number().int(), message: z.string(), details: z.array(z.unknown()) })
  .openapi('GoogleRpcStatus', { description: 'google.rpc.Status: the OTLP error body' });

const exportResponse = (name: string, field: 'rejectedLogRecords' | 'rejectedSpans') =>
  z
    .object({ partialSuccess: z.object({ [field]: z.string(), errorMessage: z.string() }).optional() })
    .openapi(name, { description: '`{}` when every record was accepted' });
const ExportLogsResponseSchema = exportResponse('ExportLogsServiceResponse', 'rejectedLogRecords');
const ExportTraceResponseSchema = exportResponse('ExportTraceServiceResponse', 'rejectedSpans');
export type ExportLogsResponse = z.infer<typeof ExportLogsResponseSchema>;
export type ExportTraceResponse = z.infer<typeof ExportTraceResponseSchema>;

const status = (description: string) => ({ description, content: { 'application/json': { schema: StatusSchema } } });

function exportRoute(path: string, what: string, request: string, response: z.ZodType) {
  return createRoute({
    method: 'post',
    path,
    description: `OTLP/HTTP ${what} (${request} as OTLP JSON; gzip or deflate). Records refused are counted in partialSuccess with the reasons.`,
    security: [{ bearer: [] }],
    request: { body: { content: { 'application/json': { schema: z.object({}).passthrough().openapi(request) } } } },
    responses: {
      200: { description: 'Accepted (stored, or queued when the database is down)', content: { 'application/json': { schema: response } } },
      400: status(`Not an ${request}`),
      401: status('No valid key'),
      403: status('The key lacks the ingest scope'),
      413: status('Too many records, or too large after decompression'),
      415: status('Not application/json, or an unsupported Content-Encoding'),
      429: status("RESOURCE_EXHAUSTED: the key's rate limit (retry after Retry-After, as the SDKs do) or daily quota"),
      503: status('The database and the queue cannot take the batch now; retry after Retry-After'),
    },
  });
}

/** What differs between the signals: how a request is read and mapped, and where its records go. */
const SIGNALS = [
  {
    route: exportRoute('/v1/logs', 'logs', 'ExportLogsServiceRequest', ExportLogsResponseSchema),
    parse: parseLogsJson as (body: unknown) => Flattened<unknown>,
    decode: (bytes: Uint8Array) => flattenLogs(decodeLogsRequest(bytes)) as Flattened<unknown>,
    encode: encodeLogsResponse,
    toWire: toWireLogs as (flat: Flattened<unknown>, arrival: Date, digest: Uint8Array) => (object | { invalid: string })[],
    envelope: (records: object[]) => ({ logs: records }),
    rejectedField: 'rejectedLogRecords',
  },
  {
    route: exportRoute('/v1/traces', 'traces', 'ExportTraceServiceRequest', ExportTraceResponseSchema),
    parse: parseTracesJson as (body: unknown) => Flattened<unknown>,
    decode: (bytes: Uint8Array) => flattenTraces(decodeTraceRequest(bytes)) as Flattened<unknown>,
    encode: encodeTraceResponse,
    toWire: toWireMetrics as (flat: Flattened<unknown>, arrival: Date, digest: Uint8Array) => (object | { invalid: string })[],
    envelope: (records: object[]) => ({ metrics: records }),
    rejectedField: 'rejectedSpans',
  },
] as const;
type Signal = (typeof SIGNALS)[number];

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
  const headers: Record<string, string> = { ...api.options.headers };
  if (api.options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(api.options.retryAfterSeconds);
  const code = GRPC_CODE[api.code] ?? 13;
  if (isProtobuf(c))
    return c.body(encodeStatus(code, api.message) as Uint8Array<ArrayBuffer>, api.status, { ...headers, 'content-type': PROTOBUF });
  return c.json({ code, message: api.message, details: [] }, api.status, headers);
}

const PROTOBUF = 'application/x-protobuf';
/** Whether the request is protobuf: the answer (success or error) is in the request's encoding. */
const isProtobuf = (c: Context<AppEnv>) => /^application\/x-protobuf\s*(;|$)/i.test(c.req.header('content-type') ?? '');

const BODY_ERRORS = { too_large: 'PAYLOAD_TOO_LARGE', unsupported_encoding: 'UNSUPPORTED_MEDIA_TYPE', unreadable: 'BAD_REQUEST' } as const;

/** The request's records, flattened, from its protobuf or JSON body, and the body's digest (the records' identity). */
async function readRecords(c: Context<AppEnv>, signal: Signal): Promise<{ flat: Flattened<unknown>; digest: Uint8Array }> {
  const contentType = c.req.header('content-type') ?? '';
  const json = /^application\/json\s*(;|$)/i.test(contentType);
  if (!json && !isProtobuf(c)) {
    throw new ApiError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/x-protobuf or application/json, got "${contentType || 'none'}"`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBodyBytes(c.req.raw, { maxBytes: c.get('settings').OTLP_MAX_BODY_BYTES });
  } catch (error) {
    if (error instanceof BodyError) throw new ApiError(BODY_ERRORS[error.reason], error.message);
    throw error;
  }
  const digest = await requestDigest(bytes);
  try {
    if (!json) return { flat: signal.decode(bytes), digest };
    const text = new TextDecoder().decode(bytes);
    return { flat: signal.parse(text.trim() === '' ? {} : JSON.parse(text)), digest };
  } catch (error) {
    if (error instanceof OtlpJsonError || error instanceof SyntaxError || error instanceof ProtobufDecodeError) {
      throw new ApiError('BAD_REQUEST', error.message);
    }
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
      const settings = c.get('settings');
      c.get('tally').queued += await publishForReplay(settings, publicBase(settings, c.req.url), batch.logs, batch.metrics);
    } catch (queueError) {
      if (!(queueError instanceof QueueUnavailableError)) throw queueError;
      throw databaseUnavailable('the database is unavailable and the batch could not be queued; retry later');
    }
  }
}

/** The partial success for the records refused, each named by its place in the request and why. */
function partialSuccess(rejected: { index: number; reason: string }[]): ExportPartialSuccess | undefined {
  if (rejected.length === 0) return undefined;
  const shown = rejected.slice(0, 20).map((r) => `record ${r.index}: ${r.reason}`);
  const more = rejected.length > shown.length ? `; and ${rejected.length - shown.length} more` : '';
  return { rejected: rejected.length, errorMessage: shown.join('; ') + more };
}

/** The export response in the request's encoding: `{}` / an empty message when nothing was refused. */
function answer(c: Context<AppEnv>, signal: Signal, partial: ExportPartialSuccess | undefined): Response {
  if (isProtobuf(c)) return c.body(signal.encode(partial) as Uint8Array<ArrayBuffer>, 200, { 'content-type': PROTOBUF });
  if (!partial) return c.json({}, 200);
  return c.json({ partialSuccess: { [signal.rejectedField]: String(partial.rejected), errorMessage: partial.errorMessage } }, 200);
}

/** Maps, validates and stores one export request; returns what it refused, by place in the request. */
async function ingest(c: Context<AppEnv>, signal: Signal) {
  const settings = c.get('settings');
  const { flat, digest } = await readRecords(c, signal);
  if (flat.records.length > settings.OTLP_MAX_RECORDS_PER_REQUEST) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `${flat.records.length} records; the limit is ${settings.OTLP_MAX_RECORDS_PER_REQUEST}`);
  }
  const wire = signal.toWire(flat, new Date(), digest);
  const readable = wire.flatMap((w, index) => ('invalid' in w ? [] : [{ index, record: w }]));
  const batch = validateBatch(signal.envelope(readable.map((r) => r.record)), {
    service: c.get('apiKey').service,
    nowMs: Date.now(),
    maxFutureSkewMs: settings.MAX_FUTURE_SKEW_SECONDS * 1000,
    maxAgeMs: settings.MAX_RECORD_AGE_DAYS * DAY_MS,
    sanitize: true,
  });
  const issues = (r: (typeof batch.rejected)[number]) => r.issues.map((i) => `${i.path || 'record'}: ${i.message}`).join(', ');
  const rejected = [
    ...wire.flatMap((w, index) => ('invalid' in w ? [{ index, reason: w.invalid }] : [])),
    ...batch.rejected.map((r) => ({ index: readable[r.index]!.index, reason: issues(r) })),
  ].sort((a, b) => a.index - b.index);
  const accepted = batch.logs.length + batch.metrics.length;
  c.get('tally').rejected += rejected.length;
  await c.get('charge')(accepted);
  if (accepted) await store(c, batch);
  c.get('tally').accepted += accepted;
  return rejected;
}

export function registerOtlp(app: App) {
  const otlp = new OpenAPIHono<AppEnv>();
  otlp.onError(otlpError);
  for (const signal of SIGNALS) {
    // The handler reads the body itself (encodings, caps, per-record checks): the contract is documentation.
    otlp.openAPIRegistry.registerPath(signal.route);
    otlp.post(signal.route.path, requireKey('ingest'), limitKey(), async (c) => answer(c, signal, partialSuccess(await ingest(c, signal))));
  }
  app.route('/otlp', otlp);
}
