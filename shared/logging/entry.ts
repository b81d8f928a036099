import type { Level, MetricInput, SystemLogInput } from '../api/wire.ts';
import type { Redactor } from './redact.ts';

/** A log record as captured by a logger call: no serialisation happens on the call path. */
export interface LogEntry {
  kind: 'log';
  /** Epoch milliseconds with sub-millisecond precision. */
  time: number;
  service: string;
  level: Level;
  message: string;
  data: Record<string, unknown> | undefined;
  correlationId: string | undefined;
  eventType: string | undefined;
  /** Set when the entry first goes into a batch, and kept for every resend. */
  id?: string;
}

export interface MetricEntry {
  kind: 'metric';
  time: number;
  service: string;
  operation: string;
  executionTimeMs: number;
  memoryUsageMb: number | undefined;
  cpuUsagePercent: number | undefined;
  correlationId: string | undefined;
  data: Record<string, unknown> | undefined;
  id?: string;
}

export type Entry = LogEntry | MetricEntry;

const perfNow = typeof performance !== 'undefined' ? () => performance.now() : () => 0;
// Wall clock minus the monotonic clock. Runtimes disagree on performance.now()'s origin (workerd
// counts from the epoch, Node from process start), so it is measured, and re-measured whenever
// the wall clock moves away (NTP adjustments in a long-running process).
let offset = Date.now() - perfNow();

/** Now, in epoch ms with microseconds where the runtime has them (so order within a ms survives). */
export function now(): number {
  const p = perfNow();
  const wall = Date.now();
  const t = offset + p;
  if (t >= wall - 1 && t < wall + 2) return t;
  offset = wall - p;
  return wall;
}

let cachedSecond = NaN;
let cachedPrefix = '';

/** RFC 3339 with microseconds: `2025-10-01T10:30:45.123456Z` (the date part is formatted once per second). */
export function isoMicros(time: number): string {
  const second = Math.floor(time / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const micros = Math.floor((time - second * 1000) * 1000);
  return `${cachedPrefix}.${String(micros).padStart(6, '0')}Z`;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

type WireLog = SystemLogInput & { id: string; timestamp: string };
type WireMetric = MetricInput & { id: string; timestamp: string };

/**
 * The wire record of an entry, its secrets censored by `redact`; its id is assigned here, once,
 * and kept for resends.
 */
export function toWire(entry: LogEntry, redact?: Redactor): WireLog;
export function toWire(entry: MetricEntry, redact?: Redactor): WireMetric;
export function toWire(entry: Entry, redact?: Redactor): WireLog | WireMetric {
  const id = (entry.id ??= crypto.randomUUID());
  const timestamp = isoMicros(entry.time);
  const data = redact ? redact.data(entry.data) : entry.data;
  if (entry.kind === 'log') {
    const message = redact ? redact.text(entry.message) : entry.message;
    const out: WireLog = { id, timestamp, service: entry.service, level: entry.level, message };
    if (data) out.data = data;
    if (entry.correlationId) out.correlation_id = entry.correlationId;
    if (entry.eventType) out.event_type = entry.eventType;
    return out;
  }
  const out: WireMetric = {
    id,
    timestamp,
    service: entry.service,
    operation: entry.operation,
    execution_time_ms: round3(entry.executionTimeMs),
  };
  if (entry.memoryUsageMb !== undefined) out.memory_usage_mb = round3(entry.memoryUsageMb);
  if (entry.cpuUsagePercent !== undefined) out.cpu_usage_percent = Math.min(999.99, Math.round(entry.cpuUsagePercent * 100) / 100);
  if (entry.correlationId) out.correlation_id = entry.correlationId;
  if (data) out.data = data;
  return out;
}
