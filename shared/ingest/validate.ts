/**
 * Turns a parsed request envelope into rows ready to store, and the report of what was refused.
 * Records are validated one by one: a bad record is reported by its index and never costs the
 * valid ones. Every stored row gets its id and timestamp here, so a batch that is re-sent
 * (by a client or a queue) maps onto the same primary keys and is stored once.
 */
import type { z } from 'zod';
import type { LogRow, MetricRow } from './types';
import { sanitize } from './sanitize';
import { MetricSchema, SystemLogSchema, toRecordIssues, type RecordIssue, type RecordKind, type RejectedRecord } from '../api/wire';

export interface ValidationPolicy {
  /** The key's service: records naming another one are refused as spoofed. '*' allows all. */
  service: string;
  nowMs: number;
  maxFutureSkewMs: number;
  maxAgeMs: number;
  /** Walk records for NUL characters and lone surrogates (see sanitize.ts). */
  sanitize: boolean;
  /** Accept event_type `audit`, which only the service writes. Default false. */
  allowAudit?: boolean;
}

/** How deep `data` may nest (OTLP clients send up to about 30) and how many members it may hold in all. */
export const MAX_DATA_DEPTH = 128;
export const MAX_DATA_MEMBERS = 10_000;

/** The event type of the audit trail: written by the service (shared/audit), refused from clients. */
export const AUDIT_EVENT_TYPE = 'audit';

export interface ValidatedBatch {
  logs: LogRow[];
  metrics: MetricRow[];
  rejected: RejectedRecord[];
  sanitized: number;
}

/**
 * For records that were validated once already (replays, dead letters) or that the service writes
 * itself: any service, no age limits, sanitised.
 */
export function trustedPolicy(): ValidationPolicy {
  return { service: '*', nowMs: Date.now(), maxFutureSkewMs: Infinity, maxAgeMs: Infinity, sanitize: true, allowAudit: true };
}

export function validateBatch(envelope: { logs?: unknown[]; metrics?: unknown[] }, policy: ValidationPolicy): ValidatedBatch {
  const rejected: RejectedRecord[] = [];
  let sanitized = 0;
  const nowIso = new Date(policy.nowMs).toISOString();

  function validate<S extends typeof SystemLogSchema | typeof MetricSchema, R>(
    kind: RecordKind,
    schema: S,
    items: unknown[] | undefined,
    toRow: (record: z.output<S>, id: string, timestamp: string) => R,
  ): R[] {
    const rows: R[] = [];
    if (!items) return rows;
    for (let index = 0; index < items.length; index++) {
      const parsed = schema.safeParse(items[index]);
      if (!parsed.success) {
        rejected.push({ index, kind, issues: toRecordIssues(parsed.error) });
        continue;
      }
      let record = parsed.data as z.output<S>;
      const issues = policyIssues(record, policy);
      if (issues.length > 0) {
        rejected.push({ index, kind, issues });
        continue;
      }
      if (policy.sanitize) {
        const s = sanitize(record);
        if (s.changed) sanitized++;
        record = s.value;
      }
      rows.push(toRow(record, record.id ?? crypto.randomUUID(), record.timestamp ?? nowIso));
    }
    return rows;
  }

  const logs = validate(
    'log',
    SystemLogSchema,
    envelope.logs,
    (r, id, timestamp): LogRow => ({
      id,
      timestamp,
      service: r.service,
      level: r.level,
      message: r.message,
      data: r.data ?? null,
      correlation_id: r.correlation_id ?? null,
      event_type: r.event_type ?? null,
    }),
  );
  const metrics = validate(
    'metric',
    MetricSchema,
    envelope.metrics,
    (r, id, timestamp): MetricRow => ({
      id,
      timestamp,
      service: r.service,
      operation: r.operation,
      execution_time_ms: r.execution_time_ms,
      memory_usage_mb: r.memory_usage_mb ?? null,
      cpu_usage_percent: r.cpu_usage_percent ?? null,
      correlation_id: r.correlation_id ?? null,
      data: r.data ?? null,
    }),
  );
  return { logs, metrics, rejected, sanitized };
}

/**
 * Why `data` is too deep or too large to store, or null. Iterative, and it stops at the first
 * limit passed: a 10,000-deep array costs its first 129 levels, not the stack.
 */
export function dataShapeIssue(data: unknown): RecordIssue | null {
  const stack: [unknown, number][] = [[data, 1]];
  let members = 0;
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DATA_DEPTH) return { path: 'data', code: 'too_deep', message: `data nests deeper than ${MAX_DATA_DEPTH} levels` };
    const children = Array.isArray(value) ? value : Object.values(value);
    members += children.length;
    if (members > MAX_DATA_MEMBERS)
      return { path: 'data', code: 'too_many_members', message: `data holds more than ${MAX_DATA_MEMBERS} keys and array items in all` };
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return null;
}

function policyIssues(
  record: { service: string; timestamp?: string | undefined; data?: unknown; event_type?: string | null | undefined },
  policy: ValidationPolicy,
): RecordIssue[] {
  const issues: RecordIssue[] = [];
  if (record.event_type === AUDIT_EVENT_TYPE && !policy.allowAudit) {
    issues.push({ path: 'event_type', code: 'reserved_event_type', message: 'event_type "audit" is written by the log service only' });
  }
  const shape = record.data === undefined || record.data === null ? null : dataShapeIssue(record.data);
  if (shape) issues.push(shape);
  if (policy.service !== '*' && record.service !== policy.service) {
    issues.push({
      path: 'service',
      code: 'spoofed_service',
      message: `this API key may only send records of service "${policy.service}", not "${record.service}"`,
    });
  }
  if (record.timestamp !== undefined) {
    const ms = Date.parse(record.timestamp);
    if (ms > policy.nowMs + policy.maxFutureSkewMs) {
      issues.push({
        path: 'timestamp',
        code: 'timestamp_in_future',
        message: `timestamp is more than ${policy.maxFutureSkewMs / 1000} s ahead of the server's clock (${new Date(policy.nowMs).toISOString()})`,
      });
    } else if (ms < policy.nowMs - policy.maxAgeMs) {
      issues.push({
        path: 'timestamp',
        code: 'timestamp_too_old',
        message: `timestamp is more than ${Math.round(policy.maxAgeMs / 86_400_000)} days in the past`,
      });
    }
  }
  return issues;
}
