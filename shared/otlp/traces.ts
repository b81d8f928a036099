/**
 * OTLP spans as this service's performance records (the README's mapping table): the span's name
 * is the operation, end − start its execution time (computed on nanosecond integers, so no float
 * loss), its trace id the correlation id, so spans join the logs of the same trace on its timeline.
 * Ids are derived from content and place, as for logs.
 */
import type { Flattened } from './json';
import { attributes, nanosToIso, recordId, resourceData, scopeData, serviceOf } from './logs';
import type { InstrumentationScope, Resource, Span } from './types';

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'];

/** end − start in milliseconds with three decimals (numeric(10,3)), or undefined when not a duration. */
export function durationMs(start: string | undefined, end: string | undefined): number | undefined {
  if (!start || !end) return undefined;
  const micros = (BigInt(end) - BigInt(start)) / 1000n;
  return micros < 0n ? undefined : Number(micros) / 1000;
}

/** A wire-format metric (shared/api/wire.ts MetricSchema) for one span; the id comes later. */
export function toWireMetric(res: Resource, sc: InstrumentationScope, s: Span, arrival: string) {
  const data: Record<string, unknown> = {
    ...attributes(s.attributes),
    span_id: s.spanId ?? null,
    parent_span_id: s.parentSpanId ?? null,
    kind: KINDS[s.kind ?? 0] ?? String(s.kind),
    status: { code: STATUS[s.status?.code ?? 0] ?? String(s.status?.code), ...(s.status?.message ? { message: s.status.message } : {}) },
    ...(s.events?.length ? { events: s.events.map((e) => e.name ?? '') } : {}),
    resource: resourceData(res),
    scope: scopeData(sc),
  };
  return {
    service: serviceOf(res),
    operation: s.name || 'unnamed',
    // A span without a valid duration is refused by validation (execution_time_ms missing).
    execution_time_ms: durationMs(s.startTimeUnixNano, s.endTimeUnixNano),
    correlation_id: s.traceId ?? null,
    data,
    timestamp: nanosToIso(s.startTimeUnixNano) ?? arrival,
  };
}

/** The request's spans as wire-format metrics with ids from the request's digest and their place, in order. */
export function toWireMetrics(flat: Flattened<Span>, arrival: Date, digest: Uint8Array) {
  const at = arrival.toISOString();
  return flat.records.map((entry, index) =>
    'invalid' in entry ? entry : { ...toWireMetric(entry.resource, entry.scope, entry.record, at), id: recordId(digest, index) },
  );
}
