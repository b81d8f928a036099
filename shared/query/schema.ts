/** The records the read API answers with: the one definition of their shapes (zod). */
import { z } from 'zod';
import { LEVELS } from '../api';

/** A system log as read back: the stored row, when it arrived, and whether its day is archived. */
export const LogRecordSchema = z
  .object({
    id: z.string(),
    timestamp: z.string(),
    received_at: z.string(),
    service: z.string(),
    level: z.enum(LEVELS),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).nullable(),
    correlation_id: z.string().nullable(),
    event_type: z.string().nullable(),
    archived: z.boolean(),
  })
  .meta({ id: 'LogRecord' });
export type LogRecord = z.infer<typeof LogRecordSchema>;

/** One event of a trace's timeline: a log or a metric, placed by its offset from the first. */
export const TraceEventSchema = z
  .object({
    kind: z.enum(['log', 'metric']),
    id: z.string(),
    timestamp: z.string(),
    offset_ms: z.number(),
    service: z.string(),
    level: z.string().nullable(),
    message: z.string().nullable(),
    operation: z.string().nullable(),
    duration_ms: z.number().nullable(),
    data: z.record(z.string(), z.unknown()).nullable(),
    event_type: z.string().nullable(),
  })
  .meta({ id: 'TraceEvent' });
export type TraceEvent = z.infer<typeof TraceEventSchema>;

/** One operation's p95 latency per time bucket, oldest first; a bucket without metrics has no point. */
export const OperationSeriesSchema = z
  .object({
    service: z.string(),
    operation: z.string(),
    points: z.array(
      z.object({
        bucket: z.string().meta({ format: 'date-time', description: 'Start of the bucket, UTC' }),
        count: z.number().int().meta({ description: 'Metrics in the bucket' }),
        p95_ms: z.number().meta({ description: '95th percentile of execution_time_ms in the bucket' }),
      }),
    ),
  })
  .meta({ id: 'OperationSeries' });
export type OperationSeries = z.infer<typeof OperationSeriesSchema>;
