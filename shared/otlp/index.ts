/**
 * OTLP/HTTP: OpenTelemetry's logs and traces read from protobuf or JSON and mapped to this
 * service's records, with ids derived from their content so that a retried export is stored once.
 */
export { flattenLogs, flattenTraces, hexId, MAX_DEPTH, OtlpJsonError, parseLogsJson, parseTracesJson, type Flattened } from './json';
export { levelOf, nanosToIso, recordId, requestDigest, toWireLogs, UNKNOWN_SERVICE } from './logs';
export {
  decodeLogsRequest,
  decodeTraceRequest,
  encodeLogsResponse,
  encodeStatus,
  encodeTraceResponse,
  ProtobufDecodeError,
} from './proto';
export { durationMs, toWireMetrics } from './traces';
export type * from './types';
