/**
 * OTLP/HTTP: OpenTelemetry's logs (and, next, traces) read from JSON or protobuf and mapped to
 * this service's records, with ids derived from their content so that a retried export is stored once.
 */
export { flattenLogs, hexId, MAX_DEPTH, OtlpJsonError, parseLogsJson, type Flattened } from './json';
export { levelOf, nanosToIso, toWireLogs, UNKNOWN_SERVICE } from './logs';
export type * from './types';
