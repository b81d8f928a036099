/**
 * OTLP/HTTP: OpenTelemetry's logs and traces read from JSON (protobuf next) and mapped to this
 * service's records, with ids derived from their content so that a retried export is stored once.
 */
export { flattenLogs, flattenTraces, hexId, MAX_DEPTH, OtlpJsonError, parseLogsJson, parseTracesJson, type Flattened } from './json';
export { levelOf, nanosToIso, toWireLogs, UNKNOWN_SERVICE } from './logs';
export { durationMs, toWireMetrics } from './traces';
export type * from './types';
