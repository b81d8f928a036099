/**
 * OTLP/HTTP JSON (opentelemetry-proto's JSON mapping) read into the shapes of types.ts: unknown
 * fields ignored (the spec's MUST), ids as hex in either case, 64-bit integers as decimal strings
 * or numbers, enums as integers. An id that is not valid hex of the right length is left out (it
 * means "not linked"); a value nested deeper than MAX_DEPTH costs its record, not the request.
 */
import type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportTraceServiceRequest,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Resource,
  Span,
} from './types';

/** Deepest array/kvlist nesting kept: more than OTLP clients send (their limit is 128 too). */
export const MAX_DEPTH = 128;

export class OtlpJsonError extends Error {
  override readonly name = 'OtlpJsonError';
}

class TooDeepError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A 64-bit integer sent as a decimal string or a number, as a decimal string. */
function int64(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v).toString();
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return BigInt(v).toString();
  return undefined;
}

/** Hex of exactly `bytes` bytes, not all zero, lower-cased; anything else is "not linked". */
export function hexId(v: unknown, bytes: number): string | undefined {
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(v) || /^0+$/.test(v)) return undefined;
  return v.toLowerCase();
}

export function anyValue(v: unknown, depth = 0): AnyValue | undefined {
  if (!isObject(v)) return undefined;
  if (depth > MAX_DEPTH) throw new TooDeepError(`a value is nested deeper than ${MAX_DEPTH} levels`);
  if (typeof v.stringValue === 'string') return { stringValue: v.stringValue };
  if (typeof v.boolValue === 'boolean') return { boolValue: v.boolValue };
  if (v.intValue !== undefined) return int64(v.intValue) === undefined ? undefined : { intValue: int64(v.intValue) };
  if (v.doubleValue !== undefined) return typeof v.doubleValue === 'number' ? { doubleValue: v.doubleValue } : undefined;
  if (isObject(v.arrayValue)) return { arrayValue: { values: list(v.arrayValue.values).map((x) => anyValue(x, depth + 1) ?? {}) } };
  if (isObject(v.kvlistValue)) return { kvlistValue: { values: keyValues(v.kvlistValue.values, depth + 1) } };
  if (typeof v.bytesValue === 'string') return { bytesValue: v.bytesValue };
  return {};
}

export function keyValues(v: unknown, depth = 0): KeyValue[] {
  return list(v)
    .filter(isObject)
    .filter((kv) => typeof kv.key === 'string')
    .map((kv) => ({ key: kv.key as string, value: anyValue(kv.value, depth) }));
}

export function resource(v: unknown): Resource {
  return isObject(v) ? { attributes: keyValues(v.attributes) } : {};
}

export function scope(v: unknown): InstrumentationScope {
  return isObject(v) ? { name: str(v.name), version: str(v.version), attributes: keyValues(v.attributes) } : {};
}

function logRecord(v: Json): LogRecord {
  return {
    timeUnixNano: int64(v.timeUnixNano),
    observedTimeUnixNano: int64(v.observedTimeUnixNano),
    severityNumber: num(v.severityNumber),
    severityText: str(v.severityText),
    body: anyValue(v.body),
    attributes: keyValues(v.attributes),
    flags: num(v.flags),
    traceId: hexId(v.traceId, 16),
    spanId: hexId(v.spanId, 8),
    eventName: str(v.eventName),
  };
}

/** A request's records in order, each with its resource and scope, or why it could not be read. */
export interface Flattened<R> {
  records: ({ resource: Resource; scope: InstrumentationScope; record: R } | { invalid: string })[];
}

/** An ExportLogsServiceRequest in OTLP JSON, flattened. Throws OtlpJsonError when it is not one. */
export function parseLogsJson(body: unknown): Flattened<LogRecord> {
  return flattenJson(body, ['resourceLogs', 'scopeLogs', 'logRecords'], logRecord);
}

/** An ExportTraceServiceRequest in OTLP JSON, flattened. Throws OtlpJsonError when it is not one. */
export function parseTracesJson(body: unknown): Flattened<Span> {
  return flattenJson(body, ['resourceSpans', 'scopeSpans', 'spans'], span);
}

function flattenJson<R>(body: unknown, [outer, middle, inner]: [string, string, string], read: (v: Json) => R): Flattened<R> {
  if (!isObject(body)) throw new OtlpJsonError('the body must be a JSON object (an OTLP export request)');
  if (body[outer] !== undefined && !Array.isArray(body[outer])) throw new OtlpJsonError(`${outer} must be an array`);
  const records: Flattened<R>['records'] = [];
  for (const rl of list(body[outer]).filter(isObject)) {
    // Read once per group: every record of it shares the object (the mapping converts it once).
    const res = readOne(() => resource(rl.resource));
    for (const sl of list(rl[middle]).filter(isObject)) {
      const sc = readOne(() => scope(sl.scope));
      for (const r of list(sl[inner])) {
        if (!isObject(r)) records.push({ invalid: `each of ${inner} must be an object` });
        else if ('invalid' in res) records.push(res);
        else if ('invalid' in sc) records.push(sc);
        else records.push(readOne(() => ({ resource: res, scope: sc, record: read(r) })));
      }
    }
  }
  return { records };
}

function span(v: Json): Span {
  return {
    traceId: hexId(v.traceId, 16),
    spanId: hexId(v.spanId, 8),
    parentSpanId: hexId(v.parentSpanId, 8),
    name: str(v.name),
    kind: num(v.kind),
    startTimeUnixNano: int64(v.startTimeUnixNano),
    endTimeUnixNano: int64(v.endTimeUnixNano),
    attributes: keyValues(v.attributes),
    events: list(v.events)
      .filter(isObject)
      .map((e) => ({ name: str(e.name), timeUnixNano: int64(e.timeUnixNano) })),
    status: isObject(v.status) ? { code: num(v.status.code), message: str(v.status.message) } : undefined,
  };
}

function readOne<T>(read: () => T): T | { invalid: string } {
  try {
    return read();
  } catch (error) {
    if (error instanceof TooDeepError) return { invalid: error.message };
    throw error;
  }
}

/** A decoded protobuf request's groups flattened the same way, each record's ids checked as JSON's are. */
function flattenDecoded<R>(
  groups: { resource?: Resource; scopes: { scope?: InstrumentationScope; records: R[] }[] }[],
  ids: (r: R) => R,
): Flattened<R> {
  const records: Flattened<R>['records'] = [];
  for (const g of groups)
    for (const s of g.scopes)
      for (const record of s.records) records.push({ resource: g.resource ?? {}, scope: s.scope ?? {}, record: ids(record) });
  return { records };
}

export function flattenLogs(request: ExportLogsServiceRequest): Flattened<LogRecord> {
  const groups = (request.resourceLogs ?? []).map((rl) => ({
    resource: rl.resource,
    scopes: (rl.scopeLogs ?? []).map((sl) => ({ scope: sl.scope, records: sl.logRecords ?? [] })),
  }));
  return flattenDecoded(groups, (r) => ({ ...r, traceId: hexId(r.traceId, 16), spanId: hexId(r.spanId, 8) }));
}

export function flattenTraces(request: ExportTraceServiceRequest): Flattened<Span> {
  const groups = (request.resourceSpans ?? []).map((rs) => ({
    resource: rs.resource,
    scopes: (rs.scopeSpans ?? []).map((ss) => ({ scope: ss.scope, records: ss.spans ?? [] })),
  }));
  return flattenDecoded(groups, (s) => ({
    ...s,
    traceId: hexId(s.traceId, 16),
    spanId: hexId(s.spanId, 8),
    parentSpanId: hexId(s.parentSpanId, 8),
  }));
}
