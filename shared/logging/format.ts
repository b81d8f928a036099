import type { Entry } from './entry.ts';

/**
 * The seed's console line: `2025-10-01 10:30:45.123 | INFO     | execution:create_order:42 | Order created`
 * (location is `service:function:line` when known, else the service).
 */
export function formatPretty(entry: Entry, location?: string): string {
  const d = new Date(entry.time);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const time = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  if (entry.kind === 'metric') {
    return `${time} | PERF     | ${location ?? entry.service} | ${entry.operation} took ${entry.executionTimeMs.toFixed(3)} ms`;
  }
  const fields = entry.data && Object.keys(entry.data).length ? ` ${safeStringify(entry.data)}` : '';
  const cid = entry.correlationId ? ` [${entry.correlationId}]` : '';
  return `${time} | ${entry.level.padEnd(8)} | ${location ?? entry.service} | ${entry.message}${cid}${fields}`;
}

/** One JSON object per line, for log collectors. */
export function formatJson(entry: Entry): string {
  const base = {
    timestamp: new Date(entry.time).toISOString(),
    service: entry.service,
    ...(entry.kind === 'log'
      ? { level: entry.level, message: entry.message, event_type: entry.eventType }
      : { level: 'PERF', operation: entry.operation, execution_time_ms: entry.executionTimeMs }),
    correlation_id: entry.correlationId,
    data: entry.data,
  };
  return safeStringify(base);
}

export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return '"[unserialisable]"';
  }
}

/**
 * `function:line` of the logger's caller, from a stack captured at the call
 * (only when a pretty console line will be printed: capturing a stack costs microseconds).
 */
export function callerLocation(stack: string | undefined, service: string): string {
  const lines = stack?.split('\n') ?? [];
  // [0] "Error", [1] Logger.write, [2] Logger.info (or .warn …), [3] the caller.
  const frame = lines[3]?.trim() ?? '';
  const m = /^at (?:async )?(?:(.+?) \()?.*?:(\d+):\d+\)?$/.exec(frame);
  if (!m) return service;
  const fn = (m[1] ?? '<module>').split('.').at(-1)!;
  return `${service}:${fn}:${m[2]}`;
}
