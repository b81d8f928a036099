/**
 * Query: reads for the API and the dashboard. Every read covers the active and the archived
 * tables, so days that retention moved are still found.
 */
export { decodeToken, encodeToken, InvalidCursorError } from './cursor';
export { LogRecordSchema, OperationSeriesSchema, TraceEventSchema, type LogRecord, type OperationSeries, type TraceEvent } from './schema';
export {
  errorStats,
  latencySeries,
  logConditions,
  performanceStats,
  searchLogs,
  tailLogs,
  traceEvents,
  type ErrorStat,
  type LogCursor,
  type LogFilter,
  type StoredLog,
  type PerformanceStat,
  type TailCursor,
  type TraceRow,
} from './sql';
