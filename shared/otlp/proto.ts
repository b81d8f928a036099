/**
 * OTLP/HTTP protobuf: ExportLogsServiceRequest and ExportTraceServiceRequest read into the shapes of
 * types.ts, and the responses (and google.rpc.Status) written. Hand-written, with the field numbers
 * of opentelemetry-proto v1 (collector/{logs,trace}/v1 and the logs, trace, common and resource
 * messages beneath): workerd forbids eval/new Function, which rules out protobufjs's reflection, and
 * two requests of some forty fields do not justify generated code.
 *
 * Reading follows the protobuf wire rules, so that what any conforming client sends is read as its
 * encoder meant it: unknown fields (wire types 0, 1, 2 and 5) are skipped, and so is a known field
 * arriving with another wire type than its own (as Go's and C++'s parsers do); groups (3 and 4,
 * which proto3 never sends) and wire types 6 and 7 are refused. The last of a repeated scalar wins;
 * a message field that repeats is merged; within AnyValue's oneof the last member wins. Fields absent
 * from the wire are absent from the result, not defaulted (KeyValue.key, required by its type, is
 * the exception: ''); present ones are kept even at their default.
 *
 * Hostile input costs an error, never a hang, a stack overflow or an allocation larger than the
 * input: every read is bounded by the end of its enclosing message (a length beyond it is refused),
 * varints stop at 10 bytes, and values nested deeper than MAX_VALUE_DEPTH are refused.
 */
import type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportPartialSuccess,
  ExportTraceServiceRequest,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Resource,
  ResourceLogs,
  ResourceSpans,
  ScopeLogs,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanLink,
} from './types';

/** Input that is not a well-formed message of the expected type: where, and what was wrong. */
export class ProtobufDecodeError extends Error {
  override readonly name = 'ProtobufDecodeError';
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`invalid protobuf at byte ${offset}: ${reason}`);
  }
}

/**
 * Deepest AnyValue nesting read (arrayValue/kvlistValue levels below an attribute or body), the
 * same limit as the JSON path's MAX_DEPTH. Beyond it the whole request is refused (reading on would
 * cost stack for every level), where the JSON path, already parsed, refuses only the record.
 */
export const MAX_VALUE_DEPTH = 128;

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/**
 * One decoder for every string. Not fatal: invalid UTF-8 becomes U+FFFD, as protobuf runtimes in
 * JS do, rather than costing the export. ignoreBOM keeps a leading U+FEFF: it is data here.
 */
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
/** Longest string decoded without TextDecoder when it is ASCII (see Reader.string). */
const SHORT_STRING = 32;

/** The bytes of one buffer, read forward within the current message's end. */
class Reader {
  pos = 0;
  /** End of the message being read: an enclosing message's length prefix bounds every read. */
  end: number;
  /** High 32 bits of the last varint read (its low 32 bits are returned). */
  hi = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(reason: string, at = this.pos): never {
    throw new ProtobufDecodeError(at, reason);
  }

  private byte(start: number): number {
    if (this.pos >= this.end) this.fail('the message ends inside a varint', start);
    return this.buf[this.pos++]!;
  }

  /** A varint of up to 10 bytes (64 bits): its low 32 bits, unsigned; the high 32 in `hi`. */
  varint(): number {
    const start = this.pos;
    let lo = 0;
    let b = 0;
    // Bytes 1-4 fill bits 0-27; byte 5 straddles the halves; bytes 6-10 fill bits 35-63.
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte(start);
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.done(lo, 0);
    }
    b = this.byte(start);
    lo |= (b & 0x7f) << 28;
    let hi = (b & 0x7f) >>> 4;
    if (b < 0x80) return this.done(lo, hi);
    for (let shift = 3; shift < 32; shift += 7) {
      b = this.byte(start);
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (shift === 31 && b > 1) this.fail('varint overflows 64 bits', start);
        return this.done(lo, hi);
      }
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  private done(lo: number, hi: number): number {
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  /** A field's tag (field number << 3 | wire type); field 0 and tags beyond 32 bits are malformed. */
  tag(): number {
    const start = this.pos;
    const tag = this.varint();
    if (this.hi !== 0 || tag >>> 3 === 0) this.fail('invalid field tag (field number 0 or out of range)', start);
    return tag;
  }

  /** A length prefix, refused when it runs past the enclosing message (no allocation trusts it). */
  length(): number {
    const start = this.pos;
    const n = this.varint();
    const left = this.end - this.pos;
    if (this.hi !== 0 || n > left)
      this.fail(`a length of ${this.hi !== 0 ? '2^32 or more' : n} runs past its message (${left} bytes left)`, start);
    return n;
  }

  private need(n: number, what: string): number {
    if (this.end - this.pos < n) this.fail(`the message ends inside a ${what}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  fixed32(): number {
    return this.view.getUint32(this.need(4, 'fixed32'), true);
  }

  /** fixed64 as a decimal string: BigInt, as a double would lose nanoseconds past 2^53. */
  fixed64(): string {
    return this.view.getBigUint64(this.need(8, 'fixed64'), true).toString();
  }

  double(): number {
    return this.view.getFloat64(this.need(8, 'double'), true);
  }

  bytes(): Uint8Array {
    const n = this.length();
    return this.buf.subarray(this.pos, (this.pos += n));
  }

  /**
   * A string. Short ASCII ones (most keys and values) are built here: a call into TextDecoder costs
   * more than the decoding (1,000 records: 7.4 ms with TextDecoder alone, 1.6 ms so; see
   * test/bench/otlp-decode.ts). Past 32 bytes, character by character gets slower again.
   */
  string(): string {
    const n = this.length();
    const start = this.pos;
    const end = (this.pos += n);
    const { buf } = this;
    if (n > SHORT_STRING) return utf8.decode(buf.subarray(start, end));
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** Passes over an unknown field's value, by its wire type. */
  skip(tag: number): void {
    const wire = tag & 7;
    switch (wire) {
      case VARINT:
        this.varint();
        return;
      case I64:
        this.need(8, 'fixed64');
        return;
      case LEN: {
        const n = this.length(); // apart: `this.pos += this.length()` would add to the pos before the prefix
        this.pos += n;
        return;
      }
      case I32:
        this.need(4, 'fixed32');
        return;
      default:
        // 3 and 4 open and close groups, which proto3 (and so OTLP) never sends; 6 and 7 do not exist.
        this.fail(`field ${tag >>> 3}: ${wire === 3 || wire === 4 ? `a group (wire type ${wire})` : `invalid wire type ${wire}`}`);
    }
  }
}

/** int32 and enums: the low 32 bits, signed (a negative int32 is sent as a 10-byte varint). */
const int32 = (r: Reader): number => r.varint() | 0;

/** bool: any non-zero varint is true. */
function bool(r: Reader): boolean {
  const lo = r.varint();
  return lo !== 0 || r.hi !== 0;
}

/** uint32: the low 32 bits, as protobuf truncates. */
const uint32 = (r: Reader): number => r.varint();

/** int64 as a decimal string, two's complement; numbers while they are exact, BigInt beyond. */
function int64(r: Reader): string {
  const lo = r.varint();
  const hi = r.hi;
  if (hi < 0x200000) return String(hi * 0x100000000 + lo);
  if (hi === 0xffffffff && lo >= 0x80000000) return String(lo - 0x100000000);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Ids (bytes) as lowercase hex, whatever their length: whether an id is usable is for the caller. */
function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (OTLP JSON's bytes), without Buffer or btoa's binary strings. */
function base64(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!;
  }
  if (b.length - i === 1) {
    const n = b[i]! << 16;
    s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + '==';
  } else if (b.length - i === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + '=';
  }
  return s;
}

/** How one known field is read into its message; `depth` is the AnyValue nesting level. */
type FieldReader<T> = (r: Reader, msg: T, depth: number) => void;
/** A message's known fields: by field number, the wire type they must come with and their reader. */
type Fields<T> = (readonly [wire: number, read: FieldReader<T>] | undefined)[];

function fields<T>(spec: Record<number, readonly [number, FieldReader<T>]>): Fields<T> {
  const table: Fields<T> = [];
  for (const [number, field] of Object.entries(spec)) table[Number(number)] = field;
  return table;
}

/** Reads fields up to the current end into `msg`. */
function readFields<T>(r: Reader, table: Fields<T>, msg: T, depth: number): T {
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = table[tag >>> 3];
    if (field !== undefined && field[0] === (tag & 7)) field[1](r, msg, depth);
    else r.skip(tag);
  }
  return msg;
}

/** A length-delimited sub-message, read within its length into `into` (a repeated one merges). */
function message<T>(r: Reader, table: Fields<T>, into: T, depth = 0): T {
  const n = r.length();
  const outer = r.end;
  r.end = r.pos + n;
  readFields(r, table, into, depth);
  // Every read stopped at r.end, so the sub-message was consumed exactly: pos === r.end here.
  r.end = outer;
  return into;
}

/** A length-delimited AnyValue. Its oneof keeps the last member sent (merging one that repeats). */
function anyValue(r: Reader, depth: number, into?: AnyValue): AnyValue {
  if (depth > MAX_VALUE_DEPTH) r.fail(`a value is nested deeper than ${MAX_VALUE_DEPTH} levels`);
  const n = r.length();
  const outer = r.end;
  r.end = r.pos + n;
  let v: AnyValue = into ?? {};
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) v = { stringValue: r.string() };
    else if (tag === ((2 << 3) | VARINT)) v = { boolValue: bool(r) };
    else if (tag === ((3 << 3) | VARINT)) v = { intValue: int64(r) };
    else if (tag === ((4 << 3) | I64)) v = { doubleValue: r.double() };
    else if (tag === ((5 << 3) | LEN)) v = { arrayValue: message(r, ARRAY_VALUE, v.arrayValue ?? {}, depth + 1) };
    else if (tag === ((6 << 3) | LEN)) v = { kvlistValue: message(r, KEY_VALUE_LIST, v.kvlistValue ?? {}, depth + 1) };
    else if (tag === ((7 << 3) | LEN)) v = { bytesValue: base64(r.bytes()) };
    else r.skip(tag);
  }
  r.end = outer;
  return v;
}

const KEY_VALUE: Fields<KeyValue> = fields({
  1: [LEN, (r, m) => void (m.key = r.string())],
  2: [LEN, (r, m, d) => void (m.value = anyValue(r, d, m.value))],
});
const ARRAY_VALUE: Fields<{ values?: AnyValue[] }> = fields({
  1: [LEN, (r, m, d) => void (m.values ??= []).push(anyValue(r, d))],
});
const KEY_VALUE_LIST: Fields<{ values?: KeyValue[] }> = fields({
  1: [LEN, (r, m, d) => void (m.values ??= []).push(message(r, KEY_VALUE, { key: '' }, d))],
});

/** A repeated KeyValue field (attributes), each value at nesting level 0. */
const attribute = <T extends { attributes?: KeyValue[] }>(r: Reader, m: T) =>
  void (m.attributes ??= []).push(message(r, KEY_VALUE, { key: '' }));

const RESOURCE: Fields<Resource> = fields({
  1: [LEN, attribute],
  2: [VARINT, (r, m) => void (m.droppedAttributesCount = uint32(r))],
});
const SCOPE: Fields<InstrumentationScope> = fields({
  1: [LEN, (r, m) => void (m.name = r.string())],
  2: [LEN, (r, m) => void (m.version = r.string())],
  3: [LEN, attribute],
  4: [VARINT, (r, m) => void (m.droppedAttributesCount = uint32(r))],
});

const LOG_RECORD: Fields<LogRecord> = fields({
  1: [I64, (r, m) => void (m.timeUnixNano = r.fixed64())],
  2: [VARINT, (r, m) => void (m.severityNumber = int32(r))],
  3: [LEN, (r, m) => void (m.severityText = r.string())],
  5: [LEN, (r, m) => void (m.body = anyValue(r, 0, m.body))],
  6: [LEN, attribute],
  7: [VARINT, (r, m) => void (m.droppedAttributesCount = uint32(r))],
  8: [I32, (r, m) => void (m.flags = r.fixed32())],
  9: [LEN, (r, m) => void (m.traceId = hex(r.bytes()))],
  10: [LEN, (r, m) => void (m.spanId = hex(r.bytes()))],
  11: [I64, (r, m) => void (m.observedTimeUnixNano = r.fixed64())],
  12: [LEN, (r, m) => void (m.eventName = r.string())],
});
const SCOPE_LOGS: Fields<ScopeLogs> = fields({
  1: [LEN, (r, m) => void (m.scope = message(r, SCOPE, m.scope ?? {}))],
  2: [LEN, (r, m) => void (m.logRecords ??= []).push(message(r, LOG_RECORD, {}))],
  3: [LEN, (r, m) => void (m.schemaUrl = r.string())],
});
const RESOURCE_LOGS: Fields<ResourceLogs> = fields({
  1: [LEN, (r, m) => void (m.resource = message(r, RESOURCE, m.resource ?? {}))],
  2: [LEN, (r, m) => void (m.scopeLogs ??= []).push(message(r, SCOPE_LOGS, {}))],
  3: [LEN, (r, m) => void (m.schemaUrl = r.string())],
});
const LOGS_REQUEST: Fields<ExportLogsServiceRequest> = fields({
  1: [LEN, (r, m) => void (m.resourceLogs ??= []).push(message(r, RESOURCE_LOGS, {}))],
});

const SPAN_EVENT: Fields<SpanEvent> = fields({
  1: [I64, (r, m) => void (m.timeUnixNano = r.fixed64())],
  2: [LEN, (r, m) => void (m.name = r.string())],
  3: [LEN, attribute],
  4: [VARINT, (r, m) => void (m.droppedAttributesCount = uint32(r))],
});
const SPAN_LINK: Fields<SpanLink> = fields({
  1: [LEN, (r, m) => void (m.traceId = hex(r.bytes()))],
  2: [LEN, (r, m) => void (m.spanId = hex(r.bytes()))],
  3: [LEN, (r, m) => void (m.traceState = r.string())],
  4: [LEN, attribute],
  5: [VARINT, (r, m) => void (m.droppedAttributesCount = uint32(r))],
  6: [I32, (r, m) => void (m.flags = r.fixed32())],
});
const SPAN_STATUS: Fields<NonNullable<Span['status']>> = fields({
  2: [LEN, (r, m) => void (m.message = r.string())],
  3: [VARINT, (r, m) => void (m.code = int32(r))],
});
const SPAN: Fields<Span> = fields({
  1: [LEN, (r, m) => void (m.traceId = hex(r.bytes()))],
  2: [LEN, (r, m) => void (m.spanId = hex(r.bytes()))],
  3: [LEN, (r, m) => void (m.traceState = r.string())],
  4: [LEN, (r, m) => void (m.parentSpanId = hex(r.bytes()))],
  5: [LEN, (r, m) => void (m.name = r.string())],
  6: [VARINT, (r, m) => void (m.kind = int32(r))],
  7: [I64, (r, m) => void (m.startTimeUnixNano = r.fixed64())],
  8: [I64, (r, m) => void (m.endTimeUnixNano = r.fixed64())],
  9: [LEN, attribute],
  10: [VARINT, (r, m) => void (m.droppedAttributesCount = uint32(r))],
  11: [LEN, (r, m) => void (m.events ??= []).push(message(r, SPAN_EVENT, {}))],
  12: [VARINT, (r, m) => void (m.droppedEventsCount = uint32(r))],
  13: [LEN, (r, m) => void (m.links ??= []).push(message(r, SPAN_LINK, {}))],
  14: [VARINT, (r, m) => void (m.droppedLinksCount = uint32(r))],
  15: [LEN, (r, m) => void (m.status = message(r, SPAN_STATUS, m.status ?? {}))],
  16: [I32, (r, m) => void (m.flags = r.fixed32())],
});
const SCOPE_SPANS: Fields<ScopeSpans> = fields({
  1: [LEN, (r, m) => void (m.scope = message(r, SCOPE, m.scope ?? {}))],
  2: [LEN, (r, m) => void (m.spans ??= []).push(message(r, SPAN, {}))],
  3: [LEN, (r, m) => void (m.schemaUrl = r.string())],
});
const RESOURCE_SPANS: Fields<ResourceSpans> = fields({
  1: [LEN, (r, m) => void (m.resource = message(r, RESOURCE, m.resource ?? {}))],
  2: [LEN, (r, m) => void (m.scopeSpans ??= []).push(message(r, SCOPE_SPANS, {}))],
  3: [LEN, (r, m) => void (m.schemaUrl = r.string())],
});
const TRACE_REQUEST: Fields<ExportTraceServiceRequest> = fields({
  1: [LEN, (r, m) => void (m.resourceSpans ??= []).push(message(r, RESOURCE_SPANS, {}))],
});

/** An ExportLogsServiceRequest (POST /v1/logs, application/x-protobuf); throws ProtobufDecodeError. */
export function decodeLogsRequest(bytes: Uint8Array): ExportLogsServiceRequest {
  return readFields(new Reader(bytes), LOGS_REQUEST, {}, 0);
}

/** An ExportTraceServiceRequest (POST /v1/traces, application/x-protobuf); throws ProtobufDecodeError. */
export function decodeTraceRequest(bytes: Uint8Array): ExportTraceServiceRequest {
  return readFields(new Reader(bytes), TRACE_REQUEST, {}, 0);
}

// Writing: three small messages, built as byte lists. Fields at their proto3 default are left out,
// as every protobuf encoder does.

const utf8Encoder = new TextEncoder();

/** A varint of a 64-bit value; negative numbers as their two's complement (10 bytes). */
function pushVarint(out: number[], value: bigint): void {
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function pushInt(out: number[], field: number, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`field ${field}: ${value} is not an integer`);
  if (value === 0) return;
  out.push((field << 3) | VARINT);
  pushVarint(out, BigInt(value));
}

function pushBytes(out: number[], field: number, bytes: ArrayLike<number>): void {
  out.push((field << 3) | LEN);
  pushVarint(out, BigInt(bytes.length));
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!);
}

function pushString(out: number[], field: number, value: string): void {
  if (value !== '') pushBytes(out, field, utf8Encoder.encode(value));
}

/** Export*ServiceResponse: empty without a partial success; else partial_success (1) {rejected (1), error_message (2)}. */
function exportResponse(p: ExportPartialSuccess | undefined): Uint8Array {
  if (!p) return new Uint8Array(0);
  const inner: number[] = [];
  pushInt(inner, 1, p.rejected);
  pushString(inner, 2, p.errorMessage);
  const out: number[] = [];
  pushBytes(out, 1, inner);
  return Uint8Array.from(out);
}

/** ExportLogsServiceResponse: rejected_log_records and error_message, when some were refused. */
export const encodeLogsResponse = (p?: ExportPartialSuccess): Uint8Array => exportResponse(p);

/** ExportTraceServiceResponse: rejected_spans and error_message, when some were refused. */
export const encodeTraceResponse = (p?: ExportPartialSuccess): Uint8Array => exportResponse(p);

/** google.rpc.Status {code (1) int32, message (2)}: OTLP/HTTP's error body for protobuf requests. */
export function encodeStatus(code: number, message: string): Uint8Array {
  const out: number[] = [];
  // int32 on the wire is sign-extended to 64 bits: pushInt's two's complement does that.
  pushInt(out, 1, code | 0);
  pushString(out, 2, message);
  return Uint8Array.from(out);
}
