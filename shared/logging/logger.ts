import { getCorrelationId } from './correlation.ts';
import { now, type LogEntry, type MetricEntry } from './entry.ts';
import { callerLocation, formatJson, formatPretty } from './format.ts';
import { LEVEL_VALUE, parseLevel, type Level } from '../api/levels.ts';
import { DEFAULT_SERVICE_LEVELS, detectService } from './service.ts';
import { logPerformance, type PerformanceOptions } from './performance.ts';
import { Redactor, type RedactOptions } from './redact.ts';
import { HttpSink, type Sink } from './sink.ts';
import { Spool, type SpoolOptions } from './spool.ts';
import { RateLimitedWriter, Transport, type TransportStats } from './transport.ts';

export type Fields = Record<string, unknown>;

/** Options of setupLogging / createLogging. Environment variables (below) override them. */
export interface LoggingOptions {
  /**
   * Service of the root logger and of getLogger() calls whose module names none. Env LOG_SERVICE.
   * Default: detected from the entry module's path (`node src/services/execution/main.js` →
   * execution), else 'app'.
   */
  service?: string;
  /** Global level. Env LOG_LEVEL. Default INFO. */
  level?: Level | Lowercase<Level> | 'warn';
  /** Per-service levels over the seed's defaults. Env LOG_LEVEL_<SERVICE>, e.g. LOG_LEVEL_EXECUTION=DEBUG. */
  serviceLevels?: Record<string, Level | Lowercase<Level>>;
  /** Ingest service base URL. Env LOG_INGEST_URL. Without it (and without `sink`) records only go to the console. */
  endpoint?: string;
  /** Ingest API key. Env LOG_API_KEY. */
  apiKey?: string;
  /** A custom destination instead of HTTP (e.g. direct database writes). */
  sink?: Sink;
  /** Records queued that start a delivery. Env LOG_BATCH_SIZE. Default 100. */
  batchSize?: number;
  /** Most records per request: what queued while the previous request was in flight. Env LOG_MAX_BATCH_SIZE. Default 1000. */
  maxBatchSize?: number;
  /** Longest wait before a partial batch ships. Env LOG_FLUSH_INTERVAL_MS. Default 10 000. */
  flushIntervalMs?: number;
  /** Records held in memory at most. Env LOG_MAX_QUEUE_SIZE. Default 10 000. */
  maxQueueSize?: number;
  /**
   * Secrets censored before a record leaves the process (batches, console, stderr): keys of `data`
   * naming one (DEFAULT_REDACT_KEYS, at any depth), `paths`, and URL passwords in any string.
   * `false` turns it off. Default: the default keys.
   */
  redact?: RedactOptions | false;
  /**
   * Where batches go when the queue is full (the endpoint down or refusing with 5xx/429), instead
   * of dropping the oldest: a directory, bounded, sent again oldest first when the endpoint answers
   * and at the next start. Node and self-hosted Deno; Workers have no disk. Env LOG_SPOOL_DIR
   * (`off` to turn it off), LOG_SPOOL_MAX_BYTES. Default `.log-spool` under the working
   * directory, 1 GiB; `false`: drop as the queue always did.
   */
  spool?: SpoolOptions | false;
  /** gzip request bodies. Default true. */
  gzip?: boolean;
  /** 'development' or 'production'. Env LOG_ENV, else NODE_ENV. Default development. */
  environment?: 'development' | 'production';
  /** Console output: 'pretty' (the seed's line), 'json' lines, or false. Env LOG_FORMAT. Default pretty in development, json in production. */
  console?: 'pretty' | 'json' | false;
  /** Lowest level printed on the console. Env LOG_CONSOLE_LEVEL. Default: every record in development, ERROR in production. */
  consoleLevel?: Level;
  /** Node only: flush on beforeExit, SIGTERM and SIGINT. Default true. */
  exitHooks?: boolean;
  /** Longest the process is held at exit to flush. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Where the library reports its own problems. Default console.error. */
  stderr?: (line: string) => void;
  /** Environment to read instead of process.env. */
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

const SILENT = 1000;

/**
 * One logging setup: levels, console output and delivery. Most programs use the default one
 * through setupLogging() / getLogger(); a Worker makes one per request (createLogging) and ends
 * the request with `ctx.waitUntil(logging.flush())`.
 */
export class Logging {
  readonly transport: Transport | undefined;
  readonly defaultService: string;
  private readonly thresholds = new Map<string, number>();
  private readonly serviceLevels: Record<string, Level>;
  private readonly globalLevel: Level;
  private readonly consoleMode: 'pretty' | 'json' | false;
  private readonly consoleThreshold: number;
  private readonly consoleOut: RateLimitedWriter;
  private readonly shutdownTimeoutMs: number;
  private readonly redactor: Redactor | undefined;
  private detachHooks: (() => void) | undefined;

  constructor(options: LoggingOptions = {}) {
    const env = options.env ?? readEnv();
    const int = (v: string | undefined, d: number | undefined) => (v && Number.isFinite(Number(v)) ? Number(v) : d);
    const environment = (env.LOG_ENV ?? env.NODE_ENV) === 'production' ? 'production' : (options.environment ?? 'development');
    this.defaultService = env.LOG_SERVICE ?? options.service ?? entryService() ?? 'app';
    this.globalLevel = parseLevel(env.LOG_LEVEL) ?? parseLevel(options.level) ?? 'INFO';
    this.serviceLevels = { ...DEFAULT_SERVICE_LEVELS };
    for (const [s, l] of Object.entries(options.serviceLevels ?? {})) this.serviceLevels[s] = parseLevel(l) ?? 'INFO';
    for (const [k, v] of Object.entries(env)) {
      const m = /^LOG_LEVEL_(.+)$/.exec(k);
      const level = parseLevel(v);
      if (m && level) this.serviceLevels[m[1]!.toLowerCase()] = level;
    }
    const format = env.LOG_FORMAT === 'off' ? false : (env.LOG_FORMAT as 'pretty' | 'json' | undefined);
    this.consoleMode = format ?? options.console ?? (environment === 'production' ? 'json' : 'pretty');
    const consoleLevel = parseLevel(env.LOG_CONSOLE_LEVEL) ?? options.consoleLevel ?? (environment === 'production' ? 'ERROR' : 'DEBUG');
    this.consoleThreshold = this.consoleMode ? LEVEL_VALUE[consoleLevel] : SILENT;
    this.consoleOut = new RateLimitedWriter((l) => console.log(l), 1000);
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
    this.redactor = options.redact === false ? undefined : new Redactor(options.redact);

    const endpoint = env.LOG_INGEST_URL ?? options.endpoint;
    const apiKey = env.LOG_API_KEY ?? options.apiKey;
    const sink =
      options.sink ?? (endpoint && apiKey ? new HttpSink({ endpoint, apiKey, gzip: options.gzip, fetch: options.fetch }) : undefined);
    if (sink) {
      this.transport = new Transport({
        sink,
        service: this.defaultService,
        batchSize: int(env.LOG_BATCH_SIZE, options.batchSize),
        maxBatchSize: int(env.LOG_MAX_BATCH_SIZE, options.maxBatchSize),
        flushIntervalMs: int(env.LOG_FLUSH_INTERVAL_MS, options.flushIntervalMs),
        maxQueueSize: int(env.LOG_MAX_QUEUE_SIZE, options.maxQueueSize),
        retryBaseMs: options.retryBaseMs,
        maxRetryDelayMs: options.maxRetryDelayMs,
        redact: this.redactor,
        spool: spoolOf(options.spool, env),
        stderr: options.stderr,
      });
      if (options.exitHooks ?? true) this.detachHooks = installExitHooks(this);
    }
  }

  /** A logger for one service. */
  getServiceLogger(service: string): Logger {
    return new Logger(this, service, this.threshold(service), undefined, undefined);
  }

  /** A logger whose service is detected from a module name, file path or URL (see detectService). */
  getLogger(moduleName?: string): Logger {
    return this.getServiceLogger((moduleName && detectService(moduleName)) ?? this.defaultService);
  }

  /** The level in force for a service. */
  levelOf(service: string): Level {
    return this.serviceLevels[service] ?? this.globalLevel;
  }

  /** Ships everything queued; resolves within `timeoutMs` (default 30 s) whatever happens. */
  flush(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.transport?.flush(Date.now() + (options.timeoutMs ?? 30_000)) ?? Promise.resolve();
  }

  /** Flushes within the deadline, then stops: later records go to stderr. Removes the exit hooks. */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    this.detachHooks?.();
    this.detachHooks = undefined;
    await this.transport?.close(options.timeoutMs ?? this.shutdownTimeoutMs);
  }

  stats(): TransportStats | undefined {
    return this.transport?.getStats();
  }

  get exitTimeoutMs(): number {
    return this.shutdownTimeoutMs;
  }

  /** @internal */
  emit(entry: LogEntry | MetricEntry, value: number, stack?: string): void {
    try {
      if (value >= this.consoleThreshold) {
        const shown = this.redactor ? redacted(entry, this.redactor) : entry;
        this.consoleOut.write(
          this.consoleMode === 'json' ? formatJson(shown) : formatPretty(shown, stack ? callerLocation(stack, entry.service) : undefined),
        );
      }
      this.transport?.push(entry);
    } catch {
      // logging never throws into the application
    }
  }

  /** @internal whether a pretty console line will be printed at this level (then the caller's stack is worth capturing) */
  wantsLocation(value: number): boolean {
    return this.consoleMode === 'pretty' && value >= this.consoleThreshold;
  }

  private threshold(service: string): number {
    let t = this.thresholds.get(service);
    if (t === undefined) {
      t = LEVEL_VALUE[this.levelOf(service)];
      this.thresholds.set(service, t);
    }
    return t;
  }
}

/**
 * A logger bound to a service (and optionally to fields and an event type). A call below the
 * level returns before doing anything. Fields become the record's `data`; `event_type` and
 * `correlation_id` among them set those columns instead.
 *
 * @example
 * const log = getServiceLogger('execution').bind({ venue: 'XNAS' });
 * log.info('Order created', { order_id: 'ORD123', symbol: 'AAPL', quantity: 100, price: 150.25 });
 */
export class Logger {
  constructor(
    private readonly logging: Logging,
    readonly service: string,
    /** The service's level value: calls below it return at once. */
    private readonly threshold: number,
    private readonly bound: Fields | undefined,
    private readonly eventType: string | undefined,
  ) {}

  debug(message: string, fields?: Fields): void {
    if (this.threshold > 10) return;
    this.write('DEBUG', 10, message, fields);
  }

  info(message: string, fields?: Fields): void {
    if (this.threshold > 20) return;
    this.write('INFO', 20, message, fields);
  }

  warning(message: string, fields?: Fields): void {
    if (this.threshold > 30) return;
    this.write('WARNING', 30, message, fields);
  }

  warn(message: string, fields?: Fields): void {
    this.warning(message, fields);
  }

  error(message: string, fields?: Fields): void {
    if (this.threshold > 40) return;
    this.write('ERROR', 40, message, fields);
  }

  critical(message: string, fields?: Fields): void {
    this.write('CRITICAL', 50, message, fields);
  }

  /** An ERROR with the error's name, message and stack in `data.error`. */
  exception(error: unknown, message?: string, fields?: Fields): void {
    if (this.threshold > 40) return;
    const e = error instanceof Error ? error : new Error(String(error));
    const info = { name: e.name, message: e.message, stack: e.stack };
    this.write('ERROR', 40, message ?? e.message, fields ? { ...fields, error: info } : { error: info });
  }

  /** A child logger whose records all carry these fields (as loguru's bind). */
  bind(fields: Fields): Logger {
    const { event_type, ...rest } = fields;
    return new Logger(
      this.logging,
      this.service,
      this.threshold,
      { ...this.bound, ...rest },
      typeof event_type === 'string' ? event_type : this.eventType,
    );
  }

  /** A child logger whose records carry this event type (trading, system, performance, strategy, risk, …). */
  withEventType(eventType: string): Logger {
    return new Logger(this.logging, this.service, this.threshold, this.bound, eventType);
  }

  /**
   * Wraps a function so each call records a performance metric under this logger's service, with
   * its bound fields (see logPerformance).
   *
   * @example
   * const executeTrade = logger.timed(async (orderId: string) => { … }, { operation: 'execute_trade', memory: true });
   */
  timed<F extends (...args: never[]) => unknown>(fn: F, options: Omit<PerformanceOptions, 'logger'> = {}): F {
    return logPerformance(fn, { ...options, logger: this }, () => this);
  }

  /** Records a performance metric (logging.performance_logs) with the current correlation id. */
  metric(
    operation: string,
    executionTimeMs: number,
    extra: { memoryUsageMb?: number; cpuUsagePercent?: number; data?: Fields } = {},
  ): void {
    const data = this.bound ? { ...this.bound, ...extra.data } : extra.data;
    this.logging.emit(
      {
        kind: 'metric',
        time: now(),
        service: this.service,
        operation,
        executionTimeMs,
        memoryUsageMb: extra.memoryUsageMb,
        cpuUsagePercent: extra.cpuUsagePercent,
        correlationId: getCorrelationId(),
        data: data && Object.keys(data).length ? data : undefined,
      },
      LEVEL_VALUE.INFO,
    );
  }

  private write(level: Level, value: number, message: string, fields: Fields | undefined): void {
    let data = this.bound ? (fields ? { ...this.bound, ...fields } : this.bound) : fields;
    let eventType = this.eventType;
    let correlationId: string | undefined;
    if (data && (data.event_type !== undefined || data.correlation_id !== undefined)) {
      const { event_type, correlation_id, ...rest } = data;
      if (typeof event_type === 'string') eventType = event_type;
      if (typeof correlation_id === 'string') correlationId = correlation_id;
      data = Object.keys(rest).length ? rest : undefined;
    }
    const stack = this.logging.wantsLocation(value) ? new Error().stack : undefined;
    this.logging.emit(
      {
        kind: 'log',
        time: now(),
        service: this.service,
        level,
        message: typeof message === 'string' ? message : String(message),
        data,
        correlationId: correlationId ?? getCorrelationId(),
        eventType,
      },
      value,
      stack,
    );
  }
}

function spoolOf(
  option: SpoolOptions | false | undefined,
  env: Record<string, string | undefined>,
): Promise<Spool | undefined> | undefined {
  if (option === false || env.LOG_SPOOL_DIR === 'off') return undefined;
  const maxBytes = Number(env.LOG_SPOOL_MAX_BYTES);
  return Spool.open({
    ...option,
    ...(env.LOG_SPOOL_DIR ? { dir: env.LOG_SPOOL_DIR } : {}),
    ...(Number.isFinite(maxBytes) && maxBytes > 0 ? { maxBytes } : {}),
  });
}

/** The entry as the console may show it: a copy with secrets censored, or the entry itself when it has none. */
function redacted(entry: LogEntry | MetricEntry, redactor: Redactor): LogEntry | MetricEntry {
  const data = redactor.data(entry.data);
  const message = entry.kind === 'log' ? redactor.text(entry.message) : undefined;
  if (data === entry.data && (entry.kind !== 'log' || message === entry.message)) return entry;
  return entry.kind === 'log' ? { ...entry, data, message: message! } : { ...entry, data };
}

/** The service of the program's entry module (Node's argv[1], Deno's main module), if its path names one. */
function entryService(): string | undefined {
  const g = globalThis as { process?: { argv?: string[] }; Deno?: { mainModule?: string } };
  try {
    const entry = g.Deno?.mainModule ?? g.process?.argv?.[1];
    return entry ? detectService(entry) : undefined;
  } catch {
    return undefined;
  }
}

function readEnv(): Record<string, string | undefined> {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined> };
    Deno?: { env?: { toObject(): Record<string, string> } };
  };
  if (g.process?.env) return g.process.env;
  try {
    return g.Deno?.env?.toObject() ?? {};
  } catch {
    return {}; // Deno without --allow-env
  }
}

/** Node: flush on beforeExit, and on SIGTERM/SIGINT within the deadline, then exit as the signal would. */
function installExitHooks(logging: Logging): (() => void) | undefined {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  const isNode =
    !!proc?.versions?.node &&
    typeof proc.on === 'function' &&
    (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent !== 'Cloudflare-Workers';
  if (!proc || !isNode) return undefined;
  const onBeforeExit = () => {
    if ((logging.transport?.size ?? 0) > 0) void logging.flush({ timeoutMs: logging.exitTimeoutMs });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    detach();
    const otherListeners = proc.listenerCount(signal) > 0;
    void logging.shutdown({ timeoutMs: logging.exitTimeoutMs }).finally(() => {
      if (!otherListeners) proc.kill(proc.pid, signal); // the default action, now that we are not listening
    });
  };
  proc.on('beforeExit', onBeforeExit);
  proc.on('SIGTERM', onSignal);
  proc.on('SIGINT', onSignal);
  function detach() {
    proc!.off('beforeExit', onBeforeExit);
    proc!.off('SIGTERM', onSignal);
    proc!.off('SIGINT', onSignal);
  }
  return detach;
}
