/**
 * A pino transport that ships through this library: the same batching, ids, retries, redaction
 * (and, in Node, spool) as the logger. pino-abstract-transport is its only dependency, an
 * optional peer of the package that the core library does not need.
 *
 * @example
 * const logger = pino({ name: 'execution' }, pino.transport({
 *   target: 'trading-log-ingest/pino',
 *   options: { endpoint: 'https://logs.example.com', apiKey: process.env.LOG_API_KEY },
 * }));
 */
import build from 'pino-abstract-transport';
import type { Level } from '../../api/levels.ts';
import type { LogEntry } from '../entry.ts';
import { createLogging, type LoggingOptions } from '../index.ts';

/**
 * The logger's options (endpoint, apiKey, batching, redact, spool, …); `service` is the default
 * for records without `name`. The spool defaults to `.log-spool/pino` under the working directory.
 */
export type PinoTransportOptions = Omit<LoggingOptions, 'console' | 'consoleLevel' | 'exitHooks'>;

/** pino's numeric levels to ours: trace and debug → DEBUG, info, warn → WARNING, error, fatal → CRITICAL. */
export function levelOf(pinoLevel: number): Level {
  if (pinoLevel >= 60) return 'CRITICAL';
  if (pinoLevel >= 50) return 'ERROR';
  if (pinoLevel >= 40) return 'WARNING';
  if (pinoLevel >= 30) return 'INFO';
  return 'DEBUG';
}

/** What pino writes for one call: its own keys, then the caller's fields. */
export type PinoRecord = Record<string, unknown> & { level?: number; time?: number | string; msg?: unknown };

// pino's own keys that are not the record's data.
const OWN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'service', 'correlation_id', 'event_type', 'v']);

/** One pino record as a log entry: `msg` the message, `name` (or `service`) the service, the rest `data`. */
export function toEntry(record: PinoRecord, defaultService: string): LogEntry {
  let data: Record<string, unknown> | undefined;
  for (const key in record) {
    if (!OWN_KEYS.has(key)) (data ??= {})[key] = record[key];
  }
  const time = typeof record.time === 'number' ? record.time : typeof record.time === 'string' ? Date.parse(record.time) : Number.NaN;
  const service = typeof record.service === 'string' ? record.service : typeof record.name === 'string' ? record.name : defaultService;
  return {
    kind: 'log',
    time: Number.isFinite(time) ? time : Date.now(),
    service,
    level: levelOf(typeof record.level === 'number' ? record.level : 30),
    message: typeof record.msg === 'string' ? record.msg : record.msg === undefined ? '' : String(record.msg),
    data,
    correlationId: typeof record.correlation_id === 'string' ? record.correlation_id : undefined,
    eventType: typeof record.event_type === 'string' ? record.event_type : undefined,
  };
}

/** The transport pino loads (`target`), in its worker thread or, given to pino() directly, in the caller's. */
export default async function pinoTransport(options: PinoTransportOptions = {}) {
  const logging = createLogging({ spool: { dir: '.log-spool/pino' }, ...options, console: false, exitHooks: false });
  const service = options.service ?? logging.defaultService;
  return build(
    async function ship(source: AsyncIterable<PinoRecord>) {
      for await (const record of source) logging.transport?.push(toEntry(record, service));
    },
    {
      async close() {
        await logging.shutdown({ timeoutMs: options.shutdownTimeoutMs });
      },
    },
  );
}
