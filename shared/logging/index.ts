/**
 * The logging library for the trading system's TypeScript services: structured logs, correlation
 * ids, performance timing, and bounded, batched, retried delivery to POST /v1/ingest.
 * Runs in Node ≥ 20, in Workers (nodejs_compat) and in Deno.
 *
 * @example
 * import { setupLogging, getLogger, withCorrelation, logPerformance } from 'trading-log-ingest/logging';
 *
 * setupLogging({ endpoint: 'https://logs.example.com', apiKey: process.env.LOG_API_KEY });
 * const logger = getLogger(import.meta.url);            // src/services/execution/… → 'execution'
 * await withCorrelation('trade-12345', async () => {
 *   logger.info('Order created', { order_id: 'ORD123', symbol: 'AAPL', quantity: 100, price: 150.25 });
 * });
 */
import { Logging, type Logger, type LoggingOptions } from './logger.ts';
import { callerModule, logPerformance as wrapPerformance, makeTimed, type PerformanceOptions } from './performance.ts';

export { Logging, Logger, type Fields, type LoggingOptions } from './logger.ts';
export { HttpSink, type Sink, type SendResult, type HttpSinkOptions } from './sink.ts';
export { Transport, type TransportOptions, type TransportStats } from './transport.ts';
export { detectService, DEFAULT_SERVICE_LEVELS } from './service.ts';
export { Redactor, DEFAULT_REDACT_KEYS, type RedactOptions } from './redact.ts';
export { LEVELS, LEVEL_VALUE, parseLevel, type Level } from '../api/levels.ts';
export {
  withCorrelation,
  getCorrelationId,
  setCorrelationId,
  newCorrelationId,
  fetchWithCorrelation,
  correlationMiddleware,
  withTraceContext,
  parseTraceparent,
  currentTraceHeaders,
  CORRELATION_HEADER,
  type CorrelationMiddlewareOptions,
  type TraceContext,
} from './correlation.ts';
export type { PerformanceOptions } from './performance.ts';

let defaultLogging: Logging | undefined;

function current(): Logging {
  return (defaultLogging ??= new Logging());
}

/** Option A: configure the default setup once at start. Replaces (and flushes) an earlier one. */
export function setupLogging(options: LoggingOptions = {}): Logging {
  const previous = defaultLogging;
  defaultLogging = new Logging(options);
  if (previous) void previous.shutdown();
  return defaultLogging;
}

/**
 * A separate setup, e.g. one per Worker request: end it with `ctx.waitUntil(logging.flush())`.
 * Without exit hooks and, unless `spool` is given, without a spool (the process's spool belongs
 * to its default setup).
 */
export function createLogging(options: LoggingOptions = {}): Logging {
  return new Logging({ exitHooks: false, spool: false, ...options });
}

/** Option B: a logger for a named service. */
export function getServiceLogger(service: string): Logger {
  return current().getServiceLogger(service);
}

/** Option C: a logger whose service is detected from a module name, path or `import.meta.url`. */
export function getLogger(moduleName?: string): Logger {
  return current().getLogger(moduleName);
}

/** The default setup's root logger (service from setupLogging's `service` or LOG_SERVICE). */
export function rootLogger(): Logger {
  return current().getLogger();
}

/**
 * The default setup's logger for the module a stack was captured in (the caller of a timing
 * helper), resolved at the first metric so that a later setupLogging() still applies.
 */
function callerLogger(stack: string | undefined): () => Logger {
  const module = callerModule(stack);
  return () => current().getLogger(module);
}

/**
 * Wraps a function so each call records a performance metric (see PerformanceOptions), under the
 * service of the module that wraps it (as getLogger(import.meta.url) would detect it) unless
 * `logger` names one.
 */
export function logPerformance<F extends (...args: never[]) => unknown>(fn: F, options: PerformanceOptions = {}): F {
  return wrapPerformance(fn, options, callerLogger(options.logger ? undefined : new Error().stack));
}

/** Method decorator form of logPerformance: the service of the module defining the class. */
export const timed = makeTimed(callerLogger);

/** Ships everything the default setup has queued (within `timeoutMs`, default 30 s). */
export function flush(options?: { timeoutMs?: number }): Promise<void> {
  return defaultLogging?.flush(options) ?? Promise.resolve();
}

/** Flushes within the deadline and stops the default setup. */
export function shutdown(options?: { timeoutMs?: number }): Promise<void> {
  return defaultLogging?.shutdown(options) ?? Promise.resolve();
}
