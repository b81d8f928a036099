/**
 * One configuration of bench:client, in a process of its own so that its CPU (all threads: pino's
 * transport workers included) is its own: the hot path (ns per call), then `records` records
 * shipped to the local sink and the process CPU and wall time that took, until the transport has
 * closed (everything sent). Prints one JSON line.
 * argv: <config> <sink port> <records> <hot-path calls>
 */
import pino from 'pino';
import { createLogging, type LoggingOptions } from '../../shared/logging/index.ts';

export const CONFIGS = [
  'ours',
  'ours-batch-1000',
  'ours-no-coalescing',
  'pino-axiom',
  'pino-logtail',
  'pino-loki',
  'pino-devnull',
] as const;
export type Config = (typeof CONFIGS)[number];

const [config, port, records, calls] = process.argv.slice(2) as [Config, string, string, string];
const RECORDS = Number(records);
const CALLS = Number(calls);
const sink = `http://127.0.0.1:${port}`;
const fields = (i: number) => ({ order_id: `ORD${i}`, symbol: 'AAPL', quantity: 100, price: 150.25, correlation_id: `trade-${i >> 3}` });

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** A logger and how to end it (resolving once everything is sent). */
interface Shipper {
  info(i: number, message: string): void;
  end(): Promise<void>;
}

function ours(options: LoggingOptions): Shipper {
  const logging = createLogging({ endpoint: sink, apiKey: 'bench', console: false, env: {}, maxQueueSize: RECORDS + 10_000, ...options });
  const log = logging.getServiceLogger('execution');
  return {
    info: (i, message) => log.info(message, fields(i)),
    end: async () => {
      await logging.flush({ timeoutMs: 600_000 });
      const { shipped } = logging.stats()!;
      await logging.shutdown();
      if (shipped < RECORDS) throw new Error(`${config}: only ${shipped} records shipped`);
    },
  };
}

function pinoTo(target: string, options: Record<string, unknown>): Shipper {
  const transport = pino.transport({ target, options });
  const logger = pino({ name: 'execution' }, transport);
  return {
    info: (i, message) => logger.info(fields(i), message),
    end: () =>
      new Promise<void>((resolve, reject) => {
        // pino unrefs the transport's worker: something must hold the event loop until it closes.
        const hold = setInterval(() => {}, 1000);
        transport.once('close', () => {
          clearInterval(hold);
          resolve();
        });
        transport.once('error', reject);
        logger.flush();
        transport.end();
      }),
  };
}

function shipper(): Shipper {
  switch (config) {
    case 'ours':
      return ours({});
    case 'ours-batch-1000':
      return ours({ batchSize: 1000 });
    case 'ours-no-coalescing':
      return ours({ maxBatchSize: 100 });
    case 'pino-axiom':
      return pinoTo('@axiomhq/pino', { dataset: 'bench', token: 'xaat-bench', url: sink });
    case 'pino-logtail':
      // Its default burst protection drops what exceeds 10,000 records in 5 s: lifted, so that it ships them all.
      return pinoTo('@logtail/pino', { sourceToken: 'bench', options: { endpoint: sink, burstProtectionMax: 1e9 } });
    case 'pino-loki':
      // Its default buffer holds 10,000 records per 5 s interval and drops the oldest: lifted, and sent every second.
      return pinoTo('pino-loki', { host: sink, batching: { interval: 1, maxBufferSize: 1e9 }, labels: { service: 'execution' } });
    case 'pino-devnull': {
      const logger = pino(pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }));
      return { info: (i, message) => logger.info(fields(i), message), end: async () => logger.flush() };
    }
  }
}

/** ns per call: `calls` calls after a warm-up, the event loop turning every 1,000 as a service's does. */
async function hotPath(s: Shipper): Promise<number> {
  for (let i = 0; i < 10_000; i++) s.info(i, 'warm-up');
  let ns = 0;
  for (let done = 0; done < CALLS; done += 1000) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) s.info(done + i, 'Order created');
    ns += Number(process.hrtime.bigint() - t);
    await new Promise((r) => setImmediate(r));
  }
  await s.end();
  return ns / CALLS;
}

async function shipped(s: Shipper): Promise<{ cpuNsPerRecord: number; wallS: number }> {
  const c0 = cpuMicros();
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    s.info(i, 'Order created');
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await s.end();
  return { cpuNsPerRecord: ((cpuMicros() - c0) * 1000) / RECORDS, wallS: (performance.now() - t0) / 1000 };
}

// Ours is timed with its transport idle (a batch larger than the calls); pino's transports run
// in a worker thread, so the calling thread pays its serialisation and the copy to the worker.
const hotNs = await hotPath(config.startsWith('ours') ? ours({ batchSize: CALLS + 20_000, flushIntervalMs: 3_600_000 }) : shipper());
await fetch(`${sink}/reset`, { method: 'POST' }); // the sink counts the shipped run only
const result = await shipped(shipper());
console.log(JSON.stringify({ config, hotNs, ...result }));
process.exit(0);
