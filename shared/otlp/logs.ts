/**
 * OTLP log records as this service's system logs (the README's mapping table): the service from
 * the resource's `service.name`, the level from the severity, the message from the body, the
 * trace id as the correlation id, everything else under `data`. Each record's id is derived from
 * the request's content and the record's place in it, so a retried export is stored once while
 * two identical records of one export stay two. A record without any time is stored at its
 * arrival and cannot be deduplicated (its id is the same, its timestamp is not).
 */
import { parseLevel, type Level } from '../api';
import type { Flattened } from './json';
import type { AnyValue, InstrumentationScope, KeyValue, LogRecord, Resource } from './types';

export const UNKNOWN_SERVICE = 'unknown_service';

/** An AnyValue as plain JSON: ints beyond 2^53 stay decimal strings, non-finite doubles strings. */
export function plain(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : v.intValue;
  }
  if (v.doubleValue !== undefined) return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

export function attributes(kvs: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) out[kv.key] = plain(kv.value);
  return out;
}

/** OTLP's six severity ranges (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) as our levels. */
const BY_SEVERITY_RANGE: readonly Level[] = ['DEBUG', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

/**
 * Python's level numbers (logging and loguru: 10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50
 * CRITICAL) for the `Level N` text Python's SDK sends, with severity 0, for a level stdlib logging
 * has no name for (loguru's TRACE is `Level 5`).
 */
function pythonLevel(n: number): Level {
  if (n < 20) return 'DEBUG';
  if (n < 30) return 'INFO';
  if (n < 40) return 'WARNING';
  if (n < 50) return 'ERROR';
  return 'CRITICAL';
}

/** severityNumber 1–8 DEBUG (TRACE too), 9–12 INFO, 13–16 WARNING, 17–20 ERROR, 21–24 CRITICAL; 0: the text; else INFO. */
export function levelOf(severityNumber: number | undefined, severityText: string | undefined): Level {
  const n = severityNumber ?? 0;
  if (n >= 1 && n <= 24) return BY_SEVERITY_RANGE[Math.floor((n - 1) / 4)]!;
  const text = (severityText ?? '').trim().toUpperCase();
  if (text === 'TRACE') return 'DEBUG';
  if (text === 'FATAL') return 'CRITICAL';
  const python = /^LEVEL (\d{1,3})$/.exec(text);
  if (python) return pythonLevel(Number(python[1]));
  return parseLevel(text) ?? 'INFO';
}

/** Nanoseconds since the epoch (a decimal string) as RFC 3339 with microseconds; undefined for 0. */
export function nanosToIso(nanos: string | undefined): string | undefined {
  if (!nanos || !/^\d+$/.test(nanos) || BigInt(nanos) === 0n) return undefined;
  const ns = BigInt(nanos);
  const ms = ns / 1_000_000n;
  if (ms > 8_640_000_000_000_000n) return undefined;
  const micros = String((ns / 1000n) % 1000n).padStart(3, '0');
  return new Date(Number(ms)).toISOString().replace(/Z$/, `${micros}Z`);
}

const resourceCache = new WeakMap<Resource, Record<string, unknown>>();
const scopeCache = new WeakMap<InstrumentationScope, Record<string, unknown>>();

/** A resource's attributes as plain JSON, converted once for all the records that share it. */
export function resourceData(res: Resource): Record<string, unknown> {
  let data = resourceCache.get(res);
  if (!data) resourceCache.set(res, (data = attributes(res.attributes)));
  return data;
}

/** A scope as plain JSON (name, version, attributes), converted once for all its records. */
export function scopeData(sc: InstrumentationScope): Record<string, unknown> {
  let data = scopeCache.get(sc);
  if (!data) {
    data = { name: sc.name ?? '', version: sc.version ?? '', ...(sc.attributes?.length ? { attributes: attributes(sc.attributes) } : {}) };
    scopeCache.set(sc, data);
  }
  return data;
}

export function serviceOf(res: Resource): string {
  const name = res.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
  return name || UNKNOWN_SERVICE;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringOr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * loguru's `extra` (what `bind()` and `contextualize()` set), which Python's SDK (1.33 and later)
 * sends as one kvlist attribute named `extra`: its fields are lifted to the top of `data`, where
 * the design and our own library put bound fields (the record's own attributes win a clash).
 */
function liftExtra(attrs: Record<string, unknown>): Record<string, unknown> {
  const { extra } = attrs;
  if (!isObject(extra)) return attrs;
  const { extra: _, ...rest } = attrs;
  return { ...extra, ...rest };
}

/** A wire-format log (shared/api/wire.ts SystemLogSchema) for one OTLP record; the id comes later. */
export function toWireLog(res: Resource, sc: InstrumentationScope, r: LogRecord, arrival: string) {
  const attrs = liftExtra(attributes(r.attributes));
  const body = plain(r.body);
  const data: Record<string, unknown> = {
    ...attrs,
    ...(typeof body === 'string' || body === null ? {} : { body }),
    resource: resourceData(res),
    scope: scopeData(sc),
    severity: { number: r.severityNumber ?? 0, text: r.severityText ?? '' },
    ...(r.spanId ? { span_id: r.spanId } : {}),
    ...(r.flags ? { trace_flags: r.flags } : {}),
  };
  const eventName = r.eventName || stringOr(attrs['event.name']) || stringOr(attrs.event_type);
  return {
    service: serviceOf(res),
    level: levelOf(r.severityNumber, r.severityText),
    message: typeof body === 'string' ? body : body === null ? '' : JSON.stringify(body),
    data,
    // A record outside a span keeps the correlation id the service set (loguru's contextualize).
    correlation_id: r.traceId ?? stringOr(attrs.correlation_id)?.slice(0, 100) ?? null,
    event_type: eventName?.slice(0, 50) ?? null,
    timestamp: nanosToIso(r.timeUnixNano) ?? nanosToIso(r.observedTimeUnixNano) ?? arrival,
  };
}

/** The SHA-256 of a request's decoded body: with a record's place in it, the record's identity. */
export async function requestDigest(body: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>));
}

/**
 * A UUID (version 8, RFC 9562) for the record at `index` of a request: 12 bytes of the request's
 * digest, then the index. A retried export (the same bytes) gives every record the same id again;
 * two identical records of one export differ by their index. One digest per request, not per record.
 */
export function recordId(digest: Uint8Array, index: number): string {
  const bytes = new Uint8Array(16);
  bytes.set(digest.subarray(0, 12));
  new DataView(bytes.buffer).setUint32(12, index);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The request's records as wire-format logs with ids from the request's digest and their place,
 * in order; a record that could not be read is `{ invalid }` at its place (reported by index).
 */
export function toWireLogs(flat: Flattened<LogRecord>, arrival: Date, digest: Uint8Array) {
  const at = arrival.toISOString();
  return flat.records.map((entry, index) =>
    'invalid' in entry ? entry : { ...toWireLog(entry.resource, entry.scope, entry.record, at), id: recordId(digest, index) },
  );
}
