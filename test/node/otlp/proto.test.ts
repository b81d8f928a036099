/**
 * shared/otlp/proto.ts against the real OpenTelemetry JS encoders: records made with the real SDK
 * (sdk-logs 0.223, sdk-trace-base 2.12) are serialized by otlp-transformer 0.223 both ways; the
 * protobuf is read with ours and compared with the JSON serializer's output (both in a canonical
 * form, below). What the SDK cannot express (int64 extremes, NaN and -0 doubles, present fields at
 * their default, unknown fields, any field order) goes through a small encoder written here from
 * the .proto files. Then the edges: empty, unknown and malformed input, nesting, and the responses.
 */
import { createTraceState, ROOT_CONTEXT, type Attributes, type Context, type Link, type SpanKind, trace } from '@opentelemetry/api';
import type { AnyValue as SdkAnyValue, AnyValueMap } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, type ReadableLogRecord, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import {
  decodeLogsRequest,
  decodeTraceRequest,
  encodeLogsResponse,
  encodeStatus,
  encodeTraceResponse,
  MAX_VALUE_DEPTH,
  ProtobufDecodeError,
} from '../../../shared/otlp/proto';
import type { AnyValue, ExportLogsServiceRequest, ExportTraceServiceRequest, KeyValue, LogRecord, Span } from '../../../shared/otlp/types';

// ---------------------------------------------------------------------------------------------
// Seeded randomness: a failing case names its seed, and the same seed replays it.

type Rng = ReturnType<typeof rng>;

/** mulberry32. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    bool: (p = 0.5) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!,
    u32: () => int(0x100000000),
    bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)),
  };
}

/** ASCII, escapes JSON cares about, NUL, U+2028, a BOM (which TextDecoder strips by default), BMP and astral characters. */
const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\0', 'é', 'ß', '日', '本', '\u2028', '\uFEFF', '😀', '𝄞', '🇫🇷', '\u{10FFFF}'];
const text = (r: Rng, max = 8) => Array.from({ length: r.int(max + 1) }, () => r.pick(CHARS)).join('');
const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const id = (r: Rng, bytes: number) => {
  const b = r.bytes(bytes);
  b[0] = b[0]! | 1; // never all zero: the SDK drops an invalid span context
  return hexOf(b);
};
const U64_EDGES = ['0', '1', '9007199254740993', '9223372036854775808', '18446744073709551615'];
const I64_EDGES = ['0', '-1', '1', '-9223372036854775808', '9223372036854775807', '9007199254740993', '-9007199254740993', '4294967296'];
const u64 = (r: Rng) => (r.bool(0.3) ? r.pick(U64_EDGES) : ((BigInt(r.u32()) << 32n) | BigInt(r.u32())).toString());
const i64 = (r: Rng) => (r.bool(0.4) ? r.pick(I64_EDGES) : BigInt.asIntN(64, (BigInt(r.u32()) << 32n) | BigInt(r.u32())).toString());
const i32 = (r: Rng) => r.pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), r.u32() | 0]);
const hrTime = (r: Rng): [number, number] => [r.int(2 ** 33), r.int(1e9)];

// ---------------------------------------------------------------------------------------------
// Canonical form for comparing ours with the JSON serializer's output.

/** int64 fields: the JSON serializer writes intValue as a JSON number (times as strings); ours are decimal strings. */
const INT64 = new Set(['intValue', 'timeUnixNano', 'observedTimeUnixNano', 'startTimeUnixNano', 'endTimeUnixNano']);
/** AnyValue's oneof members: present means set, even at a default (false, 0, '', empty array). */
const ONEOF = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue', 'arrayValue', 'kvlistValue']);
/**
 * KeyValue.value: an empty AnyValue ({}, the SDK's null or undefined) is still a value, both ways.
 * Not LogRecord.body: the JSON serializer writes an absent body as {} where protobuf leaves it out.
 */
const VALUE = new Set(['value']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDefault = (v: unknown) =>
  v === 0 || v === '' || v === false || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/**
 * Both sides, normalized: int64 numbers become decimal strings (exact: JSON.parse gives back the
 * double the SDK held, and BigInt of it is the integer the protobuf writer wrote); fields at their
 * proto3 default (0, '', false, [], {}) are dropped, except AnyValue's oneof members and
 * KeyValue.value, because the JSON serializer writes defaults the protobuf writer leaves out
 * (severityNumber: 0, kind: 0, flags: 0, attributes: [] on events and links), and proto3 gives a
 * field at its default no presence anyway; undefined (left out by JSON.stringify) is dropped
 * likewise. Arrays keep every element, empty ones included.
 */
function canon(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => canon(x));
  if (typeof v === 'number' && INT64.has(key)) return BigInt(v).toString();
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const c = canon(x, k);
    if (c === undefined || (isDefault(c) && !ONEOF.has(k) && !VALUE.has(k))) continue;
    out[k] = c;
  }
  return out;
}

/**
 * The JSON serializer's request, parsed. It also copies a resource's schemaUrl into the Resource
 * message, which has no such field (protobuf carries it on Resource{Logs,Spans} only, as JSON does
 * too): dropped.
 */
function fromJson(bytes: Uint8Array | undefined, list: 'resourceLogs' | 'resourceSpans'): unknown {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, { resource?: Record<string, unknown> }[]>;
  for (const r of parsed[list] ?? []) delete r.resource?.schemaUrl;
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Records through the real SDK.

/** Integers the SDK writes as int_value. Not 2^63 and beyond: its JSON writer calls them intValue, its protobuf writer (rightly) double_value. */
const sdkInt = (r: Rng) => r.pick([0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53), 2 ** 62, -(2 ** 63), r.int(2e12) - 1e12]);
/** Non-integral finite doubles (NaN and ±Infinity have no OTLP JSON form: JSON.stringify writes null). */
const sdkDouble = (r: Rng) => {
  const x = r.pick([0.5, -1.25, 0.1, Math.PI, 1e-300, 5e-324, -5e-324, (r.next() - 0.5) * 10 ** r.int(20)]);
  return Number.isInteger(x) ? x + 0.5 : x;
};

/** Any log AnyValue the SDK takes: scalars, bytes, null, heterogeneous arrays and maps, nested up to `depth` more levels. */
function sdkValue(r: Rng, depth: number): SdkAnyValue {
  switch (r.int(depth > 0 ? 8 : 6)) {
    case 0:
      return text(r);
    case 1:
      return r.bool();
    case 2:
      return sdkInt(r);
    case 3:
      return sdkDouble(r);
    case 4:
      return r.bytes(r.int(8));
    case 5:
      return null;
    case 6:
      return Array.from({ length: r.int(4) }, () => sdkValue(r, depth - 1));
    default:
      return sdkMap(r, r.int(4), depth - 1);
  }
}

function sdkMap(r: Rng, n: number, depth: number): AnyValueMap {
  const map: AnyValueMap = {};
  for (let i = 0; i < n; i++) map[`${text(r, 4)}${i}`] = sdkValue(r, depth);
  return map;
}

/** A value nested exactly `depth` levels (arrays and maps alternating at random), up to 20. */
function sdkDeep(r: Rng, depth: number): SdkAnyValue {
  let v: SdkAnyValue = sdkValue(r, 0);
  for (let i = 0; i < depth; i++) v = r.bool() ? [v] : { [text(r, 3)]: v };
  return v;
}

const sdkBody = (r: Rng): SdkAnyValue => (r.bool(0.2) ? sdkDeep(r, r.int(21)) : sdkValue(r, 3));

/** A context carrying a random valid span context, or none. */
function spanContext(r: Rng): Context | undefined {
  if (r.bool(0.3)) return undefined;
  const traceState = r.bool() ? createTraceState('vendor=a1,other=b-2') : undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: id(r, 16), spanId: id(r, 8), traceFlags: r.int(2), isRemote: r.bool(), traceState });
}

/** One export's records: one or two resources (providers), one or two scopes each, 1-4 records per scope. */
function sdkLogs(r: Rng): ReadableLogRecord[] {
  const records: ReadableLogRecord[] = [];
  for (let p = 1 + r.int(2); p > 0; p--) {
    const exporter = new InMemoryLogRecordExporter();
    const resource = resourceFromAttributes(
      { 'service.name': text(r), n: sdkInt(r) },
      r.bool() ? { schemaUrl: `https://r/${text(r)}` } : {},
    );
    // A low attribute limit, so that droppedAttributesCount is not always 0.
    const provider = new LoggerProvider({
      resource,
      processors: [new SimpleLogRecordProcessor({ exporter })],
      logRecordLimits: { attributeCountLimit: 5 },
    });
    for (let s = 1 + r.int(2); s > 0; s--) {
      const options = r.bool() ? { schemaUrl: `https://s/${text(r)}`, attributes: sdkMap(r, 1 + r.int(2), 1) } : undefined;
      const logger = provider.getLogger(`scope-${s}-${text(r)}`, r.bool() ? text(r) : undefined, options);
      for (let n = 1 + r.int(4); n > 0; n--) {
        logger.emit({
          timestamp: hrTime(r),
          observedTimestamp: hrTime(r),
          severityNumber: r.bool(0.8) ? r.int(25) : undefined,
          severityText: r.bool() ? text(r) : undefined,
          body: r.bool(0.9) ? sdkBody(r) : undefined,
          attributes: sdkMap(r, r.int(8), 2),
          eventName: r.bool(0.3) ? text(r) : undefined,
          context: spanContext(r),
        });
      }
    }
    records.push(...exporter.getFinishedLogRecords());
  }
  return records;
}

/** Span attributes: the trace SDK keeps primitives and homogeneous arrays of them only. */
function spanAttributes(r: Rng): Attributes {
  const attributes: Attributes = {};
  const scalar: (() => string | number | boolean)[] = [() => text(r), () => r.bool(), () => sdkInt(r), () => sdkDouble(r)];
  for (let i = r.int(8); i > 0; i--) {
    const kind = r.pick(scalar);
    attributes[`${text(r, 4)}${i}`] = r.bool(0.3) ? (Array.from({ length: r.int(4) }, () => kind()) as string[]) : kind();
  }
  return attributes;
}

function sdkSpans(r: Rng): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': text(r) }, r.bool() ? { schemaUrl: `https://r/${text(r)}` } : {}),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    sampler: new AlwaysOnSampler(), // not the default ParentBased: a parent not sampled would leave nothing to compare
    idGenerator: { generateTraceId: () => id(r, 16), generateSpanId: () => id(r, 8) },
    // Low limits, so that the dropped counts are not always 0.
    spanLimits: { attributeCountLimit: 5, eventCountLimit: 3, linkCountLimit: 2 },
  });
  for (let s = 1 + r.int(2); s > 0; s--) {
    const tracer = provider.getTracer(`scope-${s}-${text(r)}`, r.bool() ? text(r) : undefined);
    for (let n = 1 + r.int(3); n > 0; n--) {
      const links: Link[] = Array.from({ length: r.int(4) }, () => ({
        context: { traceId: id(r, 16), spanId: id(r, 8), traceFlags: r.int(2), isRemote: r.bool() },
        attributes: spanAttributes(r),
      }));
      const start = hrTime(r);
      const kind = r.int(5) as SpanKind;
      const span = tracer.startSpan(text(r), { kind, attributes: spanAttributes(r), links, startTime: start }, spanContext(r));
      for (let e = r.int(5); e > 0; e--) span.addEvent(text(r), spanAttributes(r), hrTime(r));
      if (r.bool(0.7)) span.setStatus({ code: r.int(3), message: r.bool() ? text(r) : undefined });
      span.end([start[0] + r.int(100), r.int(1e9)]);
    }
  }
  return exporter.getFinishedSpans();
}

// ---------------------------------------------------------------------------------------------
// A test-only encoder, from the .proto files, for what the SDK cannot send.

type Codec = 'string' | 'bool' | 'int64' | 'int32' | 'uint32' | 'double' | 'fixed64' | 'fixed32' | 'hex' | 'base64' | Sub;
type Sub = { of: () => Schema; repeated?: true };
type Schema = Record<string, readonly [number, Codec]>;

const ANY: Schema = {
  stringValue: [1, 'string'],
  boolValue: [2, 'bool'],
  intValue: [3, 'int64'],
  doubleValue: [4, 'double'],
  arrayValue: [5, { of: () => ARRAY }],
  kvlistValue: [6, { of: () => KVLIST }],
  bytesValue: [7, 'base64'],
};
const ARRAY: Schema = { values: [1, { of: () => ANY, repeated: true }] };
const KV: Schema = { key: [1, 'string'], value: [2, { of: () => ANY }] };
const KVLIST: Schema = { values: [1, { of: () => KV, repeated: true }] };
const attrs = (n: number) => [n, { of: () => KV, repeated: true }] as const;
const RESOURCE: Schema = { attributes: attrs(1), droppedAttributesCount: [2, 'uint32'] };
const SCOPE: Schema = { name: [1, 'string'], version: [2, 'string'], attributes: attrs(3), droppedAttributesCount: [4, 'uint32'] };
const LOG: Schema = {
  timeUnixNano: [1, 'fixed64'],
  severityNumber: [2, 'int32'],
  severityText: [3, 'string'],
  body: [5, { of: () => ANY }],
  attributes: attrs(6),
  droppedAttributesCount: [7, 'uint32'],
  flags: [8, 'fixed32'],
  traceId: [9, 'hex'],
  spanId: [10, 'hex'],
  observedTimeUnixNano: [11, 'fixed64'],
  eventName: [12, 'string'],
};
const SCOPE_LOGS: Schema = {
  scope: [1, { of: () => SCOPE }],
  logRecords: [2, { of: () => LOG, repeated: true }],
  schemaUrl: [3, 'string'],
};
const RESOURCE_LOGS: Schema = {
  resource: [1, { of: () => RESOURCE }],
  scopeLogs: [2, { of: () => SCOPE_LOGS, repeated: true }],
  schemaUrl: [3, 'string'],
};
const LOGS_REQUEST: Schema = { resourceLogs: [1, { of: () => RESOURCE_LOGS, repeated: true }] };
const EVENT: Schema = { timeUnixNano: [1, 'fixed64'], name: [2, 'string'], attributes: attrs(3), droppedAttributesCount: [4, 'uint32'] };
const LINK: Schema = {
  traceId: [1, 'hex'],
  spanId: [2, 'hex'],
  traceState: [3, 'string'],
  attributes: attrs(4),
  droppedAttributesCount: [5, 'uint32'],
  flags: [6, 'fixed32'],
};
const STATUS: Schema = { message: [2, 'string'], code: [3, 'int32'] };
const SPAN: Schema = {
  traceId: [1, 'hex'],
  spanId: [2, 'hex'],
  traceState: [3, 'string'],
  parentSpanId: [4, 'hex'],
  name: [5, 'string'],
  kind: [6, 'int32'],
  startTimeUnixNano: [7, 'fixed64'],
  endTimeUnixNano: [8, 'fixed64'],
  attributes: attrs(9),
  droppedAttributesCount: [10, 'uint32'],
  events: [11, { of: () => EVENT, repeated: true }],
  droppedEventsCount: [12, 'uint32'],
  links: [13, { of: () => LINK, repeated: true }],
  droppedLinksCount: [14, 'uint32'],
  status: [15, { of: () => STATUS }],
  flags: [16, 'fixed32'],
};
const SCOPE_SPANS: Schema = { scope: [1, { of: () => SCOPE }], spans: [2, { of: () => SPAN, repeated: true }], schemaUrl: [3, 'string'] };
const RESOURCE_SPANS: Schema = {
  resource: [1, { of: () => RESOURCE }],
  scopeSpans: [2, { of: () => SCOPE_SPANS, repeated: true }],
  schemaUrl: [3, 'string'],
};
const TRACE_REQUEST: Schema = { resourceSpans: [1, { of: () => RESOURCE_SPANS, repeated: true }] };

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function varint(value: bigint | number): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return out;
}
const tag = (field: number, wire: number) => varint(field * 8 + wire); // not <<: field 2^29-1 overflows int32
const ld = (field: number, body: ArrayLike<number>) => [...tag(field, LEN), ...varint(body.length), ...Array.from(body)];
const le = (n: number, set: (view: DataView) => void) => {
  const b = new Uint8Array(n);
  set(new DataView(b.buffer));
  return [...b];
};

function scalar(field: number, codec: Exclude<Codec, Sub>, v: unknown): number[] {
  switch (codec) {
    case 'string':
      return ld(field, new TextEncoder().encode(v as string));
    case 'hex':
      return ld(field, Buffer.from(v as string, 'hex'));
    case 'base64':
      return ld(field, Buffer.from(v as string, 'base64'));
    case 'bool':
      return [...tag(field, VARINT), v ? 1 : 0];
    case 'int64':
    case 'int32': // a negative int32 is sign-extended to 64 bits: 10 bytes
    case 'uint32':
      return [...tag(field, VARINT), ...varint(BigInt(v as string | number))];
    case 'double':
      return [...tag(field, I64), ...le(8, (d) => d.setFloat64(0, v as number, true))];
    case 'fixed64':
      return [...tag(field, I64), ...le(8, (d) => d.setBigUint64(0, BigInt(v as string), true))];
    case 'fixed32':
      return [...tag(field, I32), ...le(4, (d) => d.setUint32(0, v as number, true))];
  }
}

/** An unknown field of a random wire type (0, 1, 2 or 5), numbered above every known one. */
function unknownField(r: Rng): number[] {
  const field = r.pick([17, 99, 1000, 2 ** 29 - 1, 20 + r.int(5000)]);
  switch (r.pick([VARINT, I64, LEN, I32])) {
    case VARINT:
      return [...tag(field, VARINT), ...varint((BigInt(r.u32()) << BigInt(r.int(33))) | BigInt(r.u32()))];
    case I64:
      return [...tag(field, I64), ...r.bytes(8)];
    case LEN:
      return ld(field, r.bytes(r.int(7)));
    default:
      return [...tag(field, I32), ...r.bytes(4)];
  }
}

/**
 * Every present field of `msg` (undefined is absent), in the order of its keys; given `r`, fields in
 * a random order (a repeated field's elements keep theirs) with unknown fields among them.
 */
function encode(msg: object, schema: Schema, r?: Rng): number[] {
  const groups: number[][] = [];
  for (const [k, v] of Object.entries(msg)) {
    if (v === undefined) continue;
    const [field, codec] = schema[k] ?? [0, 'string'];
    if (field === 0) throw new Error(`no field ${k}`);
    if (typeof codec === 'string') groups.push(scalar(field, codec, v));
    else if (codec.repeated) groups.push((v as object[]).flatMap((x) => ld(field, encode(x, codec.of(), r))));
    else groups.push(ld(field, encode(v as object, codec.of(), r)));
  }
  if (r) {
    for (let i = r.int(3) === 0 ? 1 + r.int(2) : 0; i > 0; i--) groups.push(unknownField(r));
    for (let i = groups.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [groups[i], groups[j]] = [groups[j]!, groups[i]!];
    }
  }
  return groups.flat();
}

const bytesOf = (msg: object, schema: Schema, r?: Rng) => Uint8Array.from(encode(msg, schema, r));

// Random messages in the shape ours returns: present fields only, arrays never empty (an empty
// repeated field is absent on the wire), any value at the ends of its range.

function maybe<T>(r: Rng, make: () => T, p = 0.6): T | undefined {
  return r.bool(p) ? make() : undefined;
}
const some = <T>(r: Rng, max: number, make: () => T): T[] | undefined =>
  r.bool(0.6) ? Array.from({ length: 1 + r.int(max) }, make) : undefined;

function modelValue(r: Rng, depth: number): AnyValue {
  switch (r.int(depth > 0 ? 9 : 7)) {
    case 0:
      return { stringValue: text(r) };
    case 1:
      return { boolValue: r.bool() };
    case 2:
      return { intValue: i64(r) };
    case 3:
      return {
        doubleValue: r.bool(0.5) ? r.pick([0, -0, NaN, Infinity, -Infinity, 5e-324, -1.7976931348623157e308, 2 ** 63]) : r.next() * 1e9,
      };
    case 4:
      return { bytesValue: Buffer.from(r.bytes(r.int(10))).toString('base64') };
    case 5:
      return {};
    case 6:
      return r.bool() ? { arrayValue: {} } : { kvlistValue: {} };
    case 7:
      return { arrayValue: { values: Array.from({ length: 1 + r.int(3) }, () => modelValue(r, depth - 1)) } };
    default:
      return { kvlistValue: { values: Array.from({ length: 1 + r.int(3) }, () => modelKv(r, depth - 1)) } };
  }
}

function modelDeep(r: Rng, depth: number): AnyValue {
  let v = modelValue(r, 0);
  for (let i = 0; i < depth; i++)
    v = r.bool() ? { arrayValue: { values: [v] } } : { kvlistValue: { values: [{ key: text(r, 2), value: v }] } };
  return v;
}

/** A KeyValue: the key always (ours reads an absent key as ''), the value mostly; '__proto__' and other awkward keys too. */
function modelKv(r: Rng, depth: number): KeyValue {
  const key = r.bool(0.1) ? r.pick(['', '__proto__', 'constructor', '0']) : text(r);
  return r.bool(0.9) ? { key, value: r.bool(0.1) ? modelDeep(r, r.int(21)) : modelValue(r, depth) } : { key };
}

const modelAttributes = (r: Rng) => some(r, 5, () => modelKv(r, 3));
const modelId = (r: Rng, bytes: number) => hexOf(r.bytes(r.bool(0.9) ? bytes : r.int(20)));
const modelScope = (r: Rng) => ({
  name: maybe(r, () => text(r)),
  version: maybe(r, () => text(r)),
  attributes: modelAttributes(r),
  droppedAttributesCount: maybe(r, () => r.u32()),
});
const modelResource = (r: Rng) => ({ attributes: modelAttributes(r), droppedAttributesCount: maybe(r, () => r.u32()) });

function modelLog(r: Rng): LogRecord {
  return {
    timeUnixNano: maybe(r, () => u64(r)),
    observedTimeUnixNano: maybe(r, () => u64(r)),
    severityNumber: maybe(r, () => (r.bool(0.8) ? r.int(25) : i32(r))),
    severityText: maybe(r, () => text(r)),
    body: maybe(r, () => (r.bool(0.2) ? modelDeep(r, r.int(21)) : modelValue(r, 3)), 0.8),
    attributes: modelAttributes(r),
    droppedAttributesCount: maybe(r, () => r.u32()),
    flags: maybe(r, () => r.u32()),
    traceId: maybe(r, () => modelId(r, 16)),
    spanId: maybe(r, () => modelId(r, 8)),
    eventName: maybe(r, () => text(r)),
  };
}

function modelLogs(r: Rng): ExportLogsServiceRequest {
  return {
    resourceLogs: some(r, 2, () => ({
      resource: maybe(r, () => modelResource(r)),
      scopeLogs: some(r, 2, () => ({
        scope: maybe(r, () => modelScope(r)),
        logRecords: some(r, 3, () => modelLog(r)),
        schemaUrl: maybe(r, () => text(r)),
      })),
      schemaUrl: maybe(r, () => text(r)),
    })),
  };
}

function modelSpan(r: Rng): Span {
  return {
    traceId: maybe(r, () => modelId(r, 16)),
    spanId: maybe(r, () => modelId(r, 8)),
    traceState: maybe(r, () => text(r)),
    parentSpanId: maybe(r, () => modelId(r, 8)),
    flags: maybe(r, () => r.u32()),
    name: maybe(r, () => text(r)),
    kind: maybe(r, () => (r.bool(0.8) ? r.int(6) : i32(r))),
    startTimeUnixNano: maybe(r, () => u64(r)),
    endTimeUnixNano: maybe(r, () => u64(r)),
    attributes: modelAttributes(r),
    droppedAttributesCount: maybe(r, () => r.u32()),
    events: some(r, 3, () => ({
      timeUnixNano: maybe(r, () => u64(r)),
      name: maybe(r, () => text(r)),
      attributes: modelAttributes(r),
      droppedAttributesCount: maybe(r, () => r.u32()),
    })),
    droppedEventsCount: maybe(r, () => r.u32()),
    links: some(r, 2, () => ({
      traceId: maybe(r, () => modelId(r, 16)),
      spanId: maybe(r, () => modelId(r, 8)),
      traceState: maybe(r, () => text(r)),
      attributes: modelAttributes(r),
      droppedAttributesCount: maybe(r, () => r.u32()),
      flags: maybe(r, () => r.u32()),
    })),
    droppedLinksCount: maybe(r, () => r.u32()),
    status: maybe(r, () => ({ message: maybe(r, () => text(r)), code: maybe(r, () => (r.bool(0.8) ? r.int(3) : i32(r))) })),
  };
}

function modelTraces(r: Rng): ExportTraceServiceRequest {
  return {
    resourceSpans: some(r, 2, () => ({
      resource: maybe(r, () => modelResource(r)),
      scopeSpans: some(r, 2, () => ({
        scope: maybe(r, () => modelScope(r)),
        spans: some(r, 3, () => modelSpan(r)),
        schemaUrl: maybe(r, () => text(r)),
      })),
      schemaUrl: maybe(r, () => text(r)),
    })),
  };
}

// ---------------------------------------------------------------------------------------------

const CASES = 200;

describe('decode: the real SDK serializers as the reference', () => {
  it('a log record, field by field', () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'orders' }, { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    const context = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    provider.getLogger('checkout', '1.2.3').emit({
      timestamp: [1767225600, 123456789],
      observedTimestamp: [1767225601, 5],
      severityNumber: 17,
      severityText: 'ERROR',
      body: { order: 'ORD-1', qty: -(2 ** 63), px: 1.5, raw: new Uint8Array([0, 255]), tags: ['a', true, null] },
      attributes: { 'http.status': 502 },
      eventName: 'order.failed',
      context,
    });
    const decoded = decodeLogsRequest(ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!);
    expect(decoded).toEqual({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }], droppedAttributesCount: 0 },
          scopeLogs: [
            {
              scope: { name: 'checkout', version: '1.2.3' },
              logRecords: [
                {
                  timeUnixNano: '1767225600123456789',
                  observedTimeUnixNano: '1767225601000000005',
                  severityNumber: 17,
                  severityText: 'ERROR',
                  body: {
                    kvlistValue: {
                      values: [
                        { key: 'order', value: { stringValue: 'ORD-1' } },
                        { key: 'qty', value: { intValue: '-9223372036854775808' } },
                        { key: 'px', value: { doubleValue: 1.5 } },
                        { key: 'raw', value: { bytesValue: 'AP8=' } },
                        { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { boolValue: true }, {}] } } },
                      ],
                    },
                  },
                  attributes: [{ key: 'http.status', value: { intValue: '502' } }],
                  droppedAttributesCount: 0,
                  flags: 1,
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: 'b7ad6b7169203331',
                  eventName: 'order.failed',
                },
              ],
            },
          ],
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        },
      ],
    });
  });

  it(`${CASES} random log exports: ours from protobuf = the JSON serializer's`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const records = sdkLogs(rng(seed));
      const ours = decodeLogsRequest(ProtobufLogsSerializer.serializeRequest(records)!);
      const theirs = fromJson(JsonLogsSerializer.serializeRequest(records), 'resourceLogs');
      expect(canon(ours), `seed ${seed}`).toEqual(canon(theirs));
    }
  });

  it(`${CASES / 2} random trace exports: ours from protobuf = the JSON serializer's`, () => {
    for (let seed = 1; seed <= CASES / 2; seed++) {
      const spans = sdkSpans(rng(seed));
      const ours = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(spans)!);
      const theirs = fromJson(JsonTraceSerializer.serializeRequest(spans), 'resourceSpans');
      expect(canon(ours), `seed ${seed}`).toEqual(canon(theirs));
    }
  });

  it('the generators reach what they claim (nonzero dropped counts, deep values, every value kind)', () => {
    const seen = new Set<string>();
    let deepest = 0;
    const walk = (v: unknown, depth: number): void => {
      if (Array.isArray(v)) {
        for (const x of v) walk(x, depth);
        return;
      }
      if (!isObject(v)) return;
      for (const [k, x] of Object.entries(v)) {
        if (ONEOF.has(k) || (k.startsWith('dropped') && x !== 0)) seen.add(k);
        if (k === 'arrayValue' || k === 'kvlistValue') deepest = Math.max(deepest, depth + 1);
        walk(x, k === 'arrayValue' || k === 'kvlistValue' ? depth + 1 : depth);
      }
    };
    for (let seed = 1; seed <= CASES; seed++) walk(decodeLogsRequest(ProtobufLogsSerializer.serializeRequest(sdkLogs(rng(seed)))!), 0);
    for (let seed = 1; seed <= CASES / 2; seed++)
      walk(decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(sdkSpans(rng(seed)))!), 0);
    expect([...seen].sort()).toEqual([...ONEOF, 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'].sort());
    expect(deepest).toBeGreaterThanOrEqual(20);
  });
});

describe('decode: round trips through the test encoder', () => {
  it(`${CASES} random log requests, fields shuffled, unknown fields among them`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const r = rng(seed);
      const model = modelLogs(r);
      expect(decodeLogsRequest(bytesOf(model, LOGS_REQUEST, r)), `seed ${seed}`).toEqual(model);
    }
  });

  it(`${CASES} random trace requests, likewise`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const r = rng(seed);
      const model = modelTraces(r);
      expect(decodeTraceRequest(bytesOf(model, TRACE_REQUEST, r)), `seed ${seed}`).toEqual(model);
    }
  });

  it('int64, fixed64, int32 and double at their limits, exactly', () => {
    const values: AnyValue[] = [
      ...I64_EDGES.map((intValue) => ({ intValue })),
      ...[0, -0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308].map((doubleValue) => ({ doubleValue })),
    ];
    const model: ExportLogsServiceRequest = {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '18446744073709551615',
                  observedTimeUnixNano: '0',
                  severityNumber: -(2 ** 31),
                  flags: 0xffffffff,
                  droppedAttributesCount: 0xffffffff,
                  body: { arrayValue: { values } },
                },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeLogsRequest(bytesOf(model, LOGS_REQUEST));
    expect(decoded).toEqual(model);
    // toEqual tells -0 from 0 (Object.is); say so plainly for the one that matters.
    const doubles = decoded.resourceLogs![0]!.scopeLogs![0]!.logRecords![0]!.body!.arrayValue!.values!;
    expect(Object.is(doubles[I64_EDGES.length + 1]!.doubleValue, -0)).toBe(true);
  });

  it('present fields at their default are kept; absent ones are absent', () => {
    const model: ExportTraceServiceRequest = {
      resourceSpans: [{ scopeSpans: [{ spans: [{ name: '', kind: 0, droppedAttributesCount: 0, status: {}, traceId: '' }] }] }],
    };
    expect(decodeTraceRequest(bytesOf(model, TRACE_REQUEST))).toEqual(model);
    expect(decodeTraceRequest(bytesOf({ resourceSpans: [{}] }, TRACE_REQUEST))).toEqual({ resourceSpans: [{}] });
  });
});

// ---------------------------------------------------------------------------------------------
// Edges, with hand-made bytes.

/** A logs request of one resource, one scope and one log record made of `record`'s bytes. */
const logsWith = (record: number[]) => Uint8Array.from(ld(1, ld(2, ld(2, record))));
const firstLog = (req: ExportLogsServiceRequest) => req.resourceLogs![0]!.scopeLogs![0]!.logRecords![0]!;
const str = (field: number, s: string) => ld(field, new TextEncoder().encode(s));

/** `decode` refuses `bytes` with a ProtobufDecodeError (and no other error) whose message matches `reason`. */
function refused(bytes: ArrayLike<number>, reason: RegExp, decode: (b: Uint8Array) => unknown = decodeLogsRequest): ProtobufDecodeError {
  let error: unknown;
  try {
    decode(Uint8Array.from(bytes));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ProtobufDecodeError);
  expect((error as Error).message).toMatch(reason);
  return error as ProtobufDecodeError;
}

/**
 * An AnyValue's content nested `levels` deep (a kvlist of one entry, or an array of one value, per
 * level) around an empty value. Built from the inside out as prefixes, so 10,000 levels cost O(n).
 */
function deepValue(levels: number, kind: 'kvlist' | 'array'): Uint8Array {
  const prefixes: number[][] = [];
  let inner = 0; // bytes of the AnyValue below this level; the innermost is empty
  for (let i = 0; i < levels; i++) {
    let container: number[];
    if (kind === 'array') container = [...tag(1, LEN), ...varint(inner)];
    else {
      const kv = [...tag(1, LEN), 1, 0x6b, ...tag(2, LEN), ...varint(inner)]; // KeyValue{key: 'k', value: …}
      container = [...tag(1, LEN), ...varint(kv.length + inner), ...kv];
    }
    const prefix = [...tag(kind === 'array' ? 5 : 6, LEN), ...varint(container.length + inner), ...container];
    prefixes.push(prefix);
    inner += prefix.length;
  }
  const out = new Uint8Array(inner);
  let at = 0;
  for (const prefix of prefixes.reverse()) {
    out.set(prefix, at);
    at += prefix.length;
  }
  return out;
}

function sdkLogsBytes(seed: number): Uint8Array {
  return ProtobufLogsSerializer.serializeRequest(sdkLogs(rng(seed)))!;
}

describe('decode: edges', () => {
  it('an empty buffer is an empty request', () => {
    expect(decodeLogsRequest(new Uint8Array(0))).toEqual({});
    expect(decodeTraceRequest(new Uint8Array(0))).toEqual({});
  });

  it('reads a view into a larger buffer at its offset', () => {
    const bytes = sdkLogsBytes(7);
    const big = new Uint8Array(bytes.length + 10).fill(0xff);
    big.set(bytes, 3);
    expect(decodeLogsRequest(big.subarray(3, 3 + bytes.length))).toEqual(decodeLogsRequest(bytes));
  });

  it('skips unknown fields of every wire type, at the top and inside messages and values', () => {
    const unknowns = [
      [...tag(100, VARINT), ...varint(-1n)], // a 10-byte varint
      [...tag(101, I64), 1, 2, 3, 4, 5, 6, 7, 8],
      ld(102, [0xff, 0xff, 0xff]), // not a message: its content is never looked at
      [...tag(103, I32), 1, 2, 3, 4],
      [...tag(2 ** 29 - 1, VARINT), 0], // the highest field number
    ].flat();
    const body = ld(5, [...unknowns, ...str(1, 'hello'), ...unknowns]);
    // Fields of newer protos than ours: Resource.entity_refs (3), KeyValue.key_strindex (3), AnyValue.string_value_strindex (8).
    const attribute = ld(6, [...str(1, 'k'), ...tag(3, VARINT), 7, ...ld(2, [...tag(8, VARINT), 5])]);
    const record = [...unknowns, ...body, ...attribute, ...tag(7, VARINT), 2];
    const resource = ld(1, [...ld(3, [1, 2]), ...tag(2, VARINT), 4]);
    const bytes = Uint8Array.from([...unknowns, ...ld(1, [...unknowns, ...resource, ...ld(2, ld(2, record))]), ...unknowns]);
    expect(decodeLogsRequest(bytes)).toEqual({
      resourceLogs: [
        {
          resource: { droppedAttributesCount: 4 },
          scopeLogs: [
            { logRecords: [{ body: { stringValue: 'hello' }, attributes: [{ key: 'k', value: {} }], droppedAttributesCount: 2 }] },
          ],
        },
      ],
    });
  });

  it('skips a known field that comes with another wire type, as unknown', () => {
    const record = [...tag(1, VARINT), 5, ...tag(3, I32), 1, 2, 3, 4, ...ld(2, [1]), ...ld(5, [...tag(1, I64), 1, 2, 3, 4, 5, 6, 7, 8])];
    expect(firstLog(decodeLogsRequest(logsWith(record)))).toEqual({ body: {} });
  });

  it('the last of a repeated scalar wins, a repeated message merges, the last oneof member wins', () => {
    const record = [
      ...str(3, 'first'),
      ...str(3, 'last'),
      ...ld(5, [...str(1, 'a string'), ...tag(2, VARINT), 1]), // body: string, then bool
      ...ld(5, ld(6, ld(1, str(1, 'x')))), // body again: a kvlist...
      ...ld(5, ld(6, ld(1, str(1, 'y')))), // ...merged with the next
    ];
    expect(firstLog(decodeLogsRequest(logsWith(record)))).toEqual({
      severityText: 'last',
      body: { kvlistValue: { values: [{ key: 'x' }, { key: 'y' }] } },
    });
    const twoResources = Uint8Array.from(ld(1, [...ld(1, ld(1, str(1, 'a'))), ...ld(1, [...ld(1, str(1, 'b')), ...tag(2, VARINT), 1])]));
    expect(decodeLogsRequest(twoResources)).toEqual({
      resourceLogs: [{ resource: { attributes: [{ key: 'a' }, { key: 'b' }], droppedAttributesCount: 1 } }],
    });
  });

  it('ids of any length as lowercase hex; int32 enums sign-extended; bool from any nonzero varint', () => {
    const record = [
      ...ld(9, [0xab, 0xcd, 0xef]),
      ...ld(10, []),
      ...tag(2, VARINT),
      ...varint(-3),
      ...ld(5, [...tag(2, VARINT), ...varint(2n ** 40n)]),
    ];
    expect(firstLog(decodeLogsRequest(logsWith(record)))).toEqual({
      traceId: 'abcdef',
      spanId: '',
      severityNumber: -3,
      body: { boolValue: true },
    });
  });

  it('strings: invalid UTF-8 becomes U+FFFD (not an error); NUL, a leading BOM and astral characters are kept', () => {
    const record = [...ld(3, [0x61, 0xff, 0xc3, 0x62]), ...str(12, '\uFEFF\0😀')];
    expect(firstLog(decodeLogsRequest(logsWith(record)))).toEqual({ severityText: 'a\uFFFD\uFFFDb', eventName: '\uFEFF\0😀' });
    // Either side of the short-ASCII path's limit (32 bytes), ASCII or not, and invalid past it.
    for (let n = 0; n <= 80; n++) {
      for (const s of ['x'.repeat(n), 'é' + 'x'.repeat(n), 'x'.repeat(n) + '😀', '\x7f'.repeat(n)]) {
        expect(firstLog(decodeLogsRequest(logsWith(str(3, s)))).severityText).toBe(s);
      }
      const invalid = firstLog(decodeLogsRequest(logsWith(ld(3, [...Array(n).fill(0x61), 0xff])))).severityText;
      expect(invalid).toBe('a'.repeat(n) + '\uFFFD');
    }
  });

  it('every truncation of a message is refused', () => {
    // Messages of one top-level field (one ResourceLogs/ResourceSpans): no cut ends on a field boundary.
    const logs = Array.from({ length: 20 }, (_, i) => sdkLogsBytes(i + 1)).find((b) => decodeLogsRequest(b).resourceLogs!.length === 1)!;
    const spans = ProtobufTraceSerializer.serializeRequest(sdkSpans(rng(3)))!;
    expect(decodeTraceRequest(spans).resourceSpans).toHaveLength(1);
    for (const [bytes, decode] of [
      [logs, decodeLogsRequest],
      [spans, decodeTraceRequest],
    ] as const) {
      for (let cut = 1; cut < bytes.length; cut++) {
        const error = refused(bytes.subarray(0, cut), /ends inside|runs past/, decode);
        expect(error.offset).toBeLessThanOrEqual(cut);
      }
    }
  });

  it('refuses a length past its message, or past the buffer, or of 2^32 and more', () => {
    refused([...tag(1, LEN), 5, 0], /a length of 5 runs past its message \(1 bytes left\)/);
    refused([...tag(1, LEN), 0x80, 0x80, 0x80, 0x80, 0x10], /2\^32 or more/);
    // A ResourceLogs of 2 bytes whose scopeLogs claims 5: within the buffer, past its parent.
    refused([...tag(1, LEN), 2, ...tag(2, LEN), 5, 0, 0, 0, 0, 0], /a length of 5 runs past its message \(0 bytes left\)/);
    refused(logsWith([...tag(3, LEN), 9, 0x61]), /runs past/);
    refused(logsWith([...tag(1, I64), 1, 2, 3]), /ends inside a fixed64/);
    refused(logsWith([...tag(8, I32), 1]), /ends inside a fixed32/);
    refused(logsWith(ld(5, [...tag(4, I64), 1, 2, 3, 4, 5, 6, 7])), /ends inside a double/);
  });

  it('refuses groups, wire types 6 and 7, field number 0 and malformed varints', () => {
    refused(tag(5, 3), /a group \(wire type 3\)/);
    refused(tag(5, 4), /a group \(wire type 4\)/);
    refused(logsWith(tag(200, 6)), /invalid wire type 6/);
    refused(logsWith(ld(5, tag(9, 7))), /invalid wire type 7/);
    refused([0x00], /invalid field tag/);
    refused([0x02, 0x00], /invalid field tag/);
    refused([0x80, 0x80, 0x80, 0x80, 0x10], /invalid field tag/); // a tag beyond 32 bits
    refused([...tag(100, VARINT), ...Array(10).fill(0xff), 0x01], /varint longer than 10 bytes/);
    refused([...tag(100, VARINT), ...Array(9).fill(0xff), 0x02], /varint overflows 64 bits/);
    refused([...tag(100, VARINT), 0x80], /ends inside a varint/);
    refused([0x8a], /ends inside a varint/);
  });

  it(`values nest up to ${MAX_VALUE_DEPTH} levels; one more is refused`, () => {
    const ok = firstLog(decodeLogsRequest(logsWith(ld(5, deepValue(MAX_VALUE_DEPTH, 'kvlist')))));
    let v: AnyValue | undefined = ok.body;
    let depth = 0;
    while (v?.kvlistValue) {
      v = v.kvlistValue.values![0]!.value;
      depth++;
    }
    expect([depth, v]).toEqual([MAX_VALUE_DEPTH, {}]);
    refused(logsWith(ld(5, deepValue(MAX_VALUE_DEPTH + 1, 'kvlist'))), /nested deeper than 128 levels/);
    refused(logsWith(ld(5, deepValue(MAX_VALUE_DEPTH + 1, 'array'))), /nested deeper than 128 levels/);
  });

  it('a 10,000-deep value is a ProtobufDecodeError, not a stack overflow', () => {
    for (const kind of ['kvlist', 'array'] as const) {
      const deep = deepValue(10_000, kind);
      refused(logsWith(ld(5, deep)), /nested deeper/);
      refused(logsWith(ld(6, [...str(1, 'k'), ...ld(2, deep)])), /nested deeper/);
      const span = ld(9, [...str(1, 'k'), ...ld(2, deep)]);
      refused(ld(1, ld(2, ld(2, span))), /nested deeper/, decodeTraceRequest);
    }
  });

  it('random and mutated bytes: a result or a ProtobufDecodeError, never another error', () => {
    const r = rng(42);
    const valid = [sdkLogsBytes(11), sdkLogsBytes(12), ProtobufTraceSerializer.serializeRequest(sdkSpans(rng(13)))!];
    let refusedCount = 0;
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      if (i % 3 === 0) bytes = r.bytes(r.int(64));
      else {
        bytes = Uint8Array.from(r.pick(valid));
        for (let n = 1 + r.int(3); n > 0; n--) bytes[r.int(bytes.length)] = r.int(256);
      }
      for (const decode of [decodeLogsRequest, decodeTraceRequest]) {
        try {
          decode(bytes);
        } catch (e) {
          if (!(e instanceof ProtobufDecodeError)) throw e;
          refusedCount++;
        }
      }
    }
    expect(refusedCount).toBeGreaterThan(1000); // the fuzz did reach the error paths
  });
});

describe('encode', () => {
  const utf8 = (s: string) => [...new TextEncoder().encode(s)];

  it('no partial success: an empty body', () => {
    expect(encodeLogsResponse()).toEqual(new Uint8Array(0));
    expect(encodeTraceResponse(undefined)).toEqual(new Uint8Array(0));
  });

  it('ExportLogsServiceResponse, as otlp-transformer reads it and byte for byte', () => {
    const bytes = encodeLogsResponse({ rejected: 3, errorMessage: 'record 0: bad' });
    expect(ProtobufLogsSerializer.deserializeResponse(bytes)).toEqual({
      partialSuccess: { rejectedLogRecords: 3, errorMessage: 'record 0: bad' },
    });
    expect([...bytes]).toEqual([0x0a, 0x11, 0x08, 0x03, 0x12, 0x0d, ...utf8('record 0: bad')]);
    const big = encodeLogsResponse({ rejected: 2 ** 40, errorMessage: 'é' });
    expect(ProtobufLogsSerializer.deserializeResponse(big)).toEqual({ partialSuccess: { rejectedLogRecords: 2 ** 40, errorMessage: 'é' } });
  });

  it('ExportTraceServiceResponse, likewise', () => {
    const bytes = encodeTraceResponse({ rejected: 8192, errorMessage: 'span 1: no name' });
    expect(ProtobufTraceSerializer.deserializeResponse(bytes)).toEqual({
      partialSuccess: { rejectedSpans: 8192, errorMessage: 'span 1: no name' },
    });
    expect([...bytes]).toEqual([0x0a, 0x14, 0x08, 0x80, 0x40, 0x12, 0x0f, ...utf8('span 1: no name')]);
  });

  it('a partial success at its defaults leaves its fields out (proto3), not the message', () => {
    expect([...encodeLogsResponse({ rejected: 0, errorMessage: 'warning' })]).toEqual([0x0a, 0x09, 0x12, 0x07, ...utf8('warning')]);
    expect([...encodeTraceResponse({ rejected: 0, errorMessage: '' })]).toEqual([0x0a, 0x00]);
    expect(() => encodeLogsResponse({ rejected: 1.5, errorMessage: '' })).toThrow(RangeError);
  });

  it('google.rpc.Status {code = 1, message = 2}, byte for byte', () => {
    expect([...encodeStatus(3, 'bad request')]).toEqual([0x08, 0x03, 0x12, 0x0b, ...utf8('bad request')]);
    expect([...encodeStatus(14, 'é')]).toEqual([0x08, 0x0e, 0x12, 0x02, 0xc3, 0xa9]);
    expect([...encodeStatus(0, '')]).toEqual([]);
    expect([...encodeStatus(-1, '')]).toEqual([0x08, ...Array(9).fill(0xff), 0x01]); // int32 sign-extended
  });
});
