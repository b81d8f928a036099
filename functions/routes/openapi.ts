import { z } from '@hono/zod-openapi';
import { MetricSchema, SystemLogSchema } from '../../shared/api/wire';
import type { App } from '../types';

const ErrorEnvelope = z.object({ code: z.string(), message: z.string(), requestId: z.string(), issues: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional() });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

/**
 * OpenAPI entries for the routes that validate by hand (ingest reads, decodes and checks its body
 * itself; replay verifies a signature on the raw body first), from the same zod schemas.
 */
export function registerOpenApiDocs(app: App) {
  const registry = app.openAPIRegistry;
  // The wire schemas, with the parts whose runtime checks OpenAPI cannot describe spelled out.
  const docFields = {
    data: z.record(z.string(), z.unknown()).nullish().openapi({ description: 'Structured fields (JSONB)' }),
    timestamp: z.union([z.string().openapi({ format: 'date-time' }), z.number().int()]).optional().openapi({ description: 'RFC 3339 with an offset, or epoch ms' }),
  };
  const LogDoc = SystemLogSchema.extend(docFields).openapi('SystemLog');
  const MetricDoc = MetricSchema.extend(docFields).openapi('Metric');
  const IngestResponse = z.object({
    accepted: z.number(), duplicates: z.number(), sanitized: z.number(), queued: z.number().optional(),
    rejected: z.array(z.object({ index: z.number(), kind: z.enum(['log', 'metric']), issues: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })) })),
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/ingest',
    description: 'A batch of system logs and/or performance metrics (at most 1,000 records and 1 MiB after gzip decoding; Content-Encoding: gzip accepted). Valid records are stored, invalid ones reported by index.',
    security: [{ bearer: [] }],
    request: { body: { content: { 'application/json': { schema: z.object({ logs: z.array(LogDoc).optional(), metrics: z.array(MetricDoc).optional() }) } } } },
    responses: {
      200: json(IngestResponse, 'Stored (partial success: see rejected)'),
      202: json(IngestResponse, 'The database could not take the batch now; its valid records were queued for replay'),
      400: json(ErrorEnvelope, 'Not JSON, or not the envelope'),
      401: json(ErrorEnvelope, 'No valid key'),
      403: json(ErrorEnvelope, 'Key lacks the ingest scope'),
      413: json(ErrorEnvelope, 'Too many records or bytes'),
      415: json(ErrorEnvelope, 'Not application/json, or an encoding other than gzip'),
      503: json(ErrorEnvelope, 'Neither the database nor the queue can take the batch; retry after Retry-After'),
    },
  });
  for (const [path, description] of [
    ['/v1/replay', 'QStash delivering a queued batch (Upstash-Signature required). 503 while the database is down.'],
    ['/v1/replay/failed', "QStash's failure callback: the batch is kept in logging.dead_letters."],
  ] as const) {
    registry.registerPath({
      method: 'post', path, description,
      request: { headers: z.object({ 'upstash-signature': z.string() }) },
      responses: { 200: { description: 'Stored or kept' }, 401: json(ErrorEnvelope, 'Bad signature'), 503: json(ErrorEnvelope, 'Database down, or signing keys not configured') },
    });
  }
  registry.registerPath({
    method: 'get', path: '/health', description: 'Whether the database answers.',
    responses: { 200: json(z.object({ status: z.string(), database: z.string() }), 'OK'), 503: json(z.object({ status: z.string(), database: z.string() }), 'Database unreachable') },
  });
}
