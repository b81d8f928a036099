import type { Level, MetricInput, SystemLogInput } from '../wire.ts';

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

/** RFC 3339 with microseconds: `2025-10-01T10:30:45.123456Z`. */
export function isoMicros(time: number): string {
  const ms = Math.floor(time);
  const micros = Math.floor((time - ms) * 1000);
  return new Date(ms).toISOString().slice(0, -1) + String(micros).padStart(3, '0') + 'Z';
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function toWire(entry: LogEntry): SystemLogInput & { id: string; timestamp: string };
export function toWire(entry: MetricEntry): MetricInput & { id: string; timestamp: string };
export function toWire(entry: Entry): (SystemLogInput | MetricInput) & { id: string; timestamp: string } {
  const id = (entry.id ??= crypto.randomUUID());
  const timestamp = isoMicros(entry.time);
  if (entry.kind === 'log') {
    return {
      id,
      timestamp,
      service: entry.service,
      level: entry.level,
      message: entry.message,
      ...(entry.data ? { data: entry.data } : {}),
      ...(entry.correlationId ? { correlation_id: entry.correlationId } : {}),
      ...(entry.eventType ? { event_type: entry.eventType } : {}),
    };
  }
  return {
    id,
    timestamp,
    service: entry.service,
    operation: entry.operation,
    execution_time_ms: round3(entry.executionTimeMs),
    ...(entry.memoryUsageMb !== undefined ? { memory_usage_mb: round3(entry.memoryUsageMb) } : {}),
    ...(entry.cpuUsagePercent !== undefined ? { cpu_usage_percent: Math.min(999.99, Math.round(entry.cpuUsagePercent * 100) / 100) } : {}),
    ...(entry.correlationId ? { correlation_id: entry.correlationId } : {}),
    ...(entry.data ? { data: entry.data } : {}),
  };
}
