/**
 * Query: reads for the API and the dashboard. Every read covers the active and the archived
 * tables, so days that retention moved are still found.
 */
export { decodeToken, encodeToken, InvalidCursorError } from './cursor';
export {
  errorStats,
  latencySeries,
  performanceStats,
  searchLogs,
  tailLogs,
  traceEvents,
  type ErrorStat,
  type LogCursor,
  type LogFilter,
  type LogRecord,
  type PerformanceStat,
  type TailCursor,
  type TraceEvent,
} from './sql';
