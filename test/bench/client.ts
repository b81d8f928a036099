/**
 * npm run bench:client [-- --calls 1000000 --records 200000]
 *
 * In one run: ns per logger.info call with four structured fields (hot path, transport idle);
 * total CPU per record shipped (call, batching, serialisation, gzip, HTTP to a local sink in
 * another process); and the same for pino writing to /dev/null. Prints the ratios.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createLogging } from '../../shared/logging/index.ts';
import { projectRoot } from '../../shared/dev/postgres';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '1000000' }, records: { type: 'string', default: '200000' } },
});
const CALLS = Number(values.calls);
const RECORDS = Number(values.records);
const CHUNK = 100_000;

const fields = (i: number) => ({ order_id: `ORD${i}`, symbol: 'AAPL', quantity: 100, price: 150.25 });

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function hotPathOurs(): Promise<number> {
  // The sink is never reached while timing: batches are larger than a timed chunk.
  const logging = createLogging({
    sink: { send: async () => ({ ok: true, rejected: [] }) },
    batchSize: CHUNK * 2,
    maxQueueSize: CHUNK * 2,
    flushIntervalMs: 3_600_000,
    console: false,
    env: {},
  });
  const log = logging.getServiceLogger('execution');
  let ns = 0;
  for (let done = -CHUNK; done < CALLS; done += CHUNK) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < CHUNK; i++) log.info('Order created', fields(i));
    if (done >= 0) ns += Number(process.hrtime.bigint() - t); // first chunk is warm-up
    await logging.flush();
  }
  return ns / CALLS;
}

function hotPathPino(sync: boolean): number {
  const logger = pino(pino.destination({ dest: '/dev/null', sync, minLength: sync ? 0 : 4096 }));
  for (let i = 0; i < CHUNK; i++) logger.info(fields(i), 'Order created');
  const t = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) logger.info(fields(i), 'Order created');
  const ns = Number(process.hrtime.bigint() - t) / CALLS;
  logger.flush?.();
  return ns;
}

async function shippedOurs(endpoint: string, batchSize: number): Promise<{ cpuNsPerRecord: number; wallS: number }> {
  const logging = createLogging({ endpoint, apiKey: 'bench', console: false, env: {}, maxQueueSize: RECORDS + 1000, batchSize });
  const log = logging.getServiceLogger('execution');
  for (let i = 0; i < 5_000; i++) log.info('warm-up', fields(i));
  await logging.flush();
  const c0 = cpuMicros();
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    log.info('Order created', fields(i));
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // a service's event loop turns
  }
  await logging.flush();
  const stats = logging.stats()!;
  if (stats.shipped < RECORDS) throw new Error(`only ${stats.shipped} of ${RECORDS} shipped`);
  return { cpuNsPerRecord: ((cpuMicros() - c0) * 1000) / RECORDS, wallS: (performance.now() - t0) / 1000 };
}

function shippedPino(): number {
  const logger = pino(pino.destination({ dest: '/dev/null', sync: true }));
  for (let i = 0; i < 5_000; i++) logger.info(fields(i), 'warm-up');
  const c0 = cpuMicros();
  for (let i = 0; i < RECORDS; i++) logger.info(fields(i), 'Order created');
  return ((cpuMicros() - c0) * 1000) / RECORDS;
}

async function main() {
  const server = spawn(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), ['test/bench/sink-server.ts'], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => server.stdout!.once('data', (d) => resolve(JSON.parse(String(d)).port)));
  try {
    const pinoSync = hotPathPino(true);
    const pinoAsync = hotPathPino(false);
    const ours = await hotPathOurs();
    const pinoBest = Math.min(pinoSync, pinoAsync);
    console.log(`hot path, logger.info with 4 fields (${CALLS} calls):`);
    console.log(
      `  ours ${ours.toFixed(0)} ns/call; pino → /dev/null ${pinoSync.toFixed(0)} ns (sync), ${pinoAsync.toFixed(0)} ns (buffered)`,
    );
    console.log(`  ratio ours / pino (faster of the two): ${(ours / pinoBest).toFixed(2)}`);

    const shipped = await shippedOurs(`http://127.0.0.1:${port}`, 100);
    const shipped1000 = await shippedOurs(`http://127.0.0.1:${port}`, 1000);
    const pinoTotal = shippedPino();
    console.log(`total CPU per record (${RECORDS} records; process CPU, all threads):`);
    console.log(
      `  ours, shipped (batch 100, gzip, HTTP to a local sink): ${shipped.cpuNsPerRecord.toFixed(0)} ns/record (${shipped.wallS.toFixed(2)} s wall)`,
    );
    console.log(
      `  ours, shipped with batchSize 1000:                     ${shipped1000.cpuNsPerRecord.toFixed(0)} ns/record (${shipped1000.wallS.toFixed(2)} s wall)`,
    );
    console.log(`  pino → /dev/null (sync): ${pinoTotal.toFixed(0)} ns/record`);
    console.log(
      `  ratio ours / pino: ${(shipped.cpuNsPerRecord / pinoTotal).toFixed(2)} (batch 100), ${(shipped1000.cpuNsPerRecord / pinoTotal).toFixed(2)} (batch 1000)`,
    );
  } finally {
    server.kill();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
