/** What records a metric: a Logger (structurally, so that this module does not import logger.ts). */
export interface MetricLogger {
  metric(
    operation: string,
    executionTimeMs: number,
    extra?: { memoryUsageMb?: number; cpuUsagePercent?: number; data?: Record<string, unknown> },
  ): void;
}
type Logger = MetricLogger;

export interface PerformanceOptions {
  /** Operation name. Default: the function's name. */
  operation?: string;
  /** Also record memory use (RSS, MB) where the runtime can tell. Default false. */
  memory?: boolean;
  /** Also record the call's arguments in `data.args` (truncated). Default false. */
  args?: boolean;
  /**
   * Logger that records the metric. Default: a logger of the default setup for the module that
   * called logPerformance (or defined the decorated class), its service detected from the module's
   * path as getLogger(import.meta.url) does; else the default service.
   */
  logger?: Logger;
}

// This library's own directory: frames in it are skipped when looking for the calling module.
const OWN_DIR = (() => {
  try {
    return new URL('.', import.meta.url).href;
  } catch {
    return undefined;
  }
})();

/**
 * The file (path or URL) of the first stack frame outside this library, from a stack captured in
 * it: the module that called a timing helper. Undefined when no frame names a file.
 */
export function callerModule(stack: string | undefined): string | undefined {
  for (const line of stack?.split('\n').slice(1) ?? []) {
    const m = /((?:file:\/\/|\/|[A-Za-z]:\\)[^\s()]+?):\d+(?::\d+)?\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!;
    const url = file.startsWith('file://') ? file : `file://${file.startsWith('/') ? '' : '/'}${file.replaceAll('\\', '/')}`;
    if (OWN_DIR && url.startsWith(OWN_DIR)) continue;
    return file;
  }
  return undefined;
}

type AnyFn = (...args: never[]) => unknown;

interface Sample {
  start: number;
  cpu: { user: number; system: number } | undefined;
}

const proc = (globalThis as { process?: NodeJS.Process }).process;

function begin(): Sample {
  let cpu: Sample['cpu'];
  try {
    cpu = proc?.cpuUsage?.();
  } catch {
    cpu = undefined;
  }
  return { start: performance.now(), cpu };
}

function end(sample: Sample, options: PerformanceOptions, operation: string, args: unknown[], error: unknown, logger: Logger) {
  const elapsed = performance.now() - sample.start;
  let cpuUsagePercent: number | undefined;
  let memoryUsageMb: number | undefined;
  try {
    if (sample.cpu && elapsed > 0) {
      const d = proc!.cpuUsage(sample.cpu);
      cpuUsagePercent = ((d.user + d.system) / 1000 / elapsed) * 100;
    }
    if (options.memory) {
      const rss = proc?.memoryUsage?.().rss;
      if (rss) memoryUsageMb = rss / 1_048_576;
    }
  } catch {
    // the runtime cannot tell: leave them out
  }
  const data: Record<string, unknown> = {};
  if (options.args) data.args = summarizeArgs(args);
  if (error !== undefined) data.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  logger.metric(operation, elapsed, { cpuUsagePercent, memoryUsageMb, data: Object.keys(data).length ? data : undefined });
}

function summarizeArgs(args: unknown[]): unknown[] {
  return args.map((a) => {
    if (a === null || ['number', 'boolean'].includes(typeof a)) return a;
    if (typeof a === 'string') return a.length > 200 ? `${a.slice(0, 200)}…` : a;
    try {
      const s = JSON.stringify(a);
      return s.length > 200 ? `${s.slice(0, 200)}…` : JSON.parse(s);
    } catch {
      return `[${typeof a}]`;
    }
  });
}

/**
 * Wraps a function (sync or async) so every call records a performance metric: execution_time_ms,
 * CPU use and optionally memory, with the current correlation id. A call that throws (or rejects)
 * still records its timing (with `data.error`) and rethrows the same error.
 *
 * @example
 * const executeTrade = logPerformance(async (orderId: string) => { … }, { operation: 'execute_trade' });
 */
export function logPerformance<F extends AnyFn>(fn: F, options: PerformanceOptions & { logger: Logger }): F;
export function logPerformance<F extends AnyFn>(fn: F, options: PerformanceOptions, resolveLogger: () => Logger): F;
export function logPerformance<F extends AnyFn>(fn: F, options: PerformanceOptions, resolveLogger?: () => Logger): F {
  const operation = options.operation ?? (fn.name || 'anonymous');
  const loggerOf = () => options.logger ?? resolveLogger!();
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const sample = begin();
    let result: unknown;
    try {
      result = fn.apply(this, args as never[]);
    } catch (error) {
      end(sample, options, operation, args, error, loggerOf());
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          end(sample, options, operation, args, undefined, loggerOf());
          return value;
        },
        (error: unknown) => {
          end(sample, options, operation, args, error ?? new Error('rejected'), loggerOf());
          throw error;
        },
      );
    }
    end(sample, options, operation, args, undefined, loggerOf());
    return result;
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped as unknown as F;
}

/**
 * The decorator form (standard TypeScript decorators) for methods.
 *
 * @example
 * class OrderManager {
 *   @timed({ operation: 'create_order', memory: true })
 *   async createOrder(order: Order) { … }
 * }
 */
export function makeTimed(loggerFor: (callerStack: string | undefined) => () => Logger) {
  return function timed(options: PerformanceOptions = {}) {
    const resolveLogger = loggerFor(options.logger ? undefined : new Error().stack);
    return <F extends AnyFn>(method: F, context: ClassMethodDecoratorContext): F =>
      logPerformance(method, { ...options, operation: options.operation ?? String(context.name) }, resolveLogger);
  };
}
