/**
 * The wire format of POST /v1/ingest: the single source of truth, imported by the handlers and by
 * the client library (shared/logging).
 *
 * @example
 * const body: IngestRequest = {
 *   logs: [{ service: 'execution', level: 'info', message: 'Order created', data: { order_id: 'ORD123' } }],
 *   metrics: [{ service: 'execution', operation: 'create_order', execution_time_ms: 4.2 }],
 * };
 */
import { z } from 'zod';

import { LEVELS, parseLevel, type Level } from './levels.ts';

export { LEVELS, type Level };

/** One of LEVELS in any case (plus the alias `warn`), normalised to upper case. */
export const LevelSchema = z
  .string()
  .transform((v) => parseLevel(v) ?? v)
  .pipe(z.enum(LEVELS, { error: () => `level must be one of ${LEVELS.join(', ')} (any case)` }));

export const ServiceSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,50}$/, 'service must be 1-50 characters of letters, digits, "_", "." or "-"');

/** RFC 3339 with an offset (`2025-10-01T10:30:45.123Z`), or milliseconds since the epoch. */
export const TimestampSchema = z.union([
  z.iso.datetime({ offset: true, error: 'timestamp must be an RFC 3339 date-time with an offset, or epoch milliseconds' }),
  z
    .number()
    .int()
    .min(0)
    .max(8.64e15)
    .transform((ms) => new Date(ms).toISOString()),
]);

const Id = z.uuid({ error: 'id must be a UUID' });
const CorrelationId = z.string().min(1).max(100);
/**
 * Structured fields, stored as JSONB: any JSON object. Checked by shape only (not rebuilt key by
 * key as z.record would), since every value that JSON can carry is storable.
 */
const Data = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
  error: 'data must be a JSON object',
});

// numeric(10,3) and numeric(5,2) in the schema: larger values would make Postgres refuse the batch.
const NUMERIC_10_3_MAX = 9_999_999.999;

/** A system log record (logging.system_logs). */
export const SystemLogSchema = z.strictObject({
  id: Id.optional(),
  timestamp: TimestampSchema.optional(),
  service: ServiceSchema,
  level: LevelSchema,
  message: z.string(),
  data: Data.nullish(),
  correlation_id: CorrelationId.nullish(),
  event_type: z.string().min(1).max(50).nullish(),
});

/** A performance metric record (logging.performance_logs). */
export const MetricSchema = z.strictObject({
  id: Id.optional(),
  timestamp: TimestampSchema.optional(),
  service: ServiceSchema,
  operation: z.string().min(1).max(100),
  execution_time_ms: z.number().min(0).max(NUMERIC_10_3_MAX),
  memory_usage_mb: z.number().min(-NUMERIC_10_3_MAX).max(NUMERIC_10_3_MAX).nullish(),
  cpu_usage_percent: z.number().min(0).max(999.99).nullish(),
  correlation_id: CorrelationId.nullish(),
  data: Data.nullish(),
});

/**
 * The envelope. Records are validated one by one after it (so one bad record costs only itself);
 * the envelope itself must be right or the whole request is refused.
 */
export const IngestEnvelopeSchema = z
  .strictObject({
    logs: z.array(z.unknown(), { error: 'logs must be an array of records' }).optional(),
    metrics: z.array(z.unknown(), { error: 'metrics must be an array of records' }).optional(),
  })
  .refine((b) => b.logs !== undefined || b.metrics !== undefined, { message: 'body must contain "logs" and/or "metrics"' });

export type SystemLogInput = z.input<typeof SystemLogSchema>;
export type SystemLog = z.output<typeof SystemLogSchema>;
export type MetricInput = z.input<typeof MetricSchema>;
export type Metric = z.output<typeof MetricSchema>;
export interface IngestRequest {
  logs?: SystemLogInput[];
  metrics?: MetricInput[];
}

export const RecordKindSchema = z.enum(['log', 'metric']);
export type RecordKind = z.infer<typeof RecordKindSchema>;

export const RecordIssueSchema = z
  .object({
    path: z.string().meta({ description: 'Dotted path inside the record, e.g. `level` or `data.price`; empty for the record itself' }),
    code: z.string(),
    message: z.string(),
  })
  .meta({ id: 'RecordIssue' });
export type RecordIssue = z.infer<typeof RecordIssueSchema>;

export const RejectedRecordSchema = z
  .object({
    index: z.number().int().meta({ description: 'Index in the `logs` or `metrics` array of the request' }),
    kind: RecordKindSchema,
    issues: z.array(RecordIssueSchema),
  })
  .meta({ id: 'RejectedRecord' });
export type RejectedRecord = z.infer<typeof RejectedRecordSchema>;

/** The answer of POST /v1/ingest (200, or 202 with `queued`). */
export const IngestResponseSchema = z
  .object({
    accepted: z.number().int().meta({ description: 'Valid records now stored, including those that were stored already (duplicates)' }),
    duplicates: z.number().int().meta({ description: 'How many of the accepted records had been stored before (same id and timestamp)' }),
    sanitized: z.number().int().meta({ description: 'Records with a NUL character or a lone surrogate replaced by U+FFFD before storing' }),
    rejected: z.array(RejectedRecordSchema),
    queued: z.number().int().optional().meta({
      description:
        'Present (202) when the database could not take the batch now: this many valid records were handed to the queue and will be stored when it recovers (exactly once, by their ids)',
    }),
  })
  .meta({ id: 'IngestResponse' });
export type IngestResponse = z.infer<typeof IngestResponseSchema>;

export function toRecordIssues(error: z.ZodError): RecordIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code, message: i.message }));
}
