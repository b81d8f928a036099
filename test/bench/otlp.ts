/**
 * npm run bench:otlp [-- --records 200000 --batch 1000 --concurrency 4 --rounds 3 --timeout 900]
 *
 * The same log records through the Worker under `wrangler dev` three ways, one after the other in
 * each round (the table emptied before each): OTLP protobuf and OTLP JSON at /otlp/v1/logs, as the
 * real SDK's serializers (otlp-transformer 0.223) encode an export of SDK records (a string body,
 * six attributes, a trace context), and our JSON at /v1/ingest with the same fields. Prints
 * records/s of each and the ratios to /v1/ingest per round, and their medians. Ends within
 * `--timeout` seconds whatever happens.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { createKey } from '../../shared/db/api-keys';
import { createSql } from '../../shared/db/client';
import { freePort, startScratchDatabase } from '../../shared/dev/postgres';
import { startWorker } from '../../shared/dev/wrangler';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '900' },
  },
});
const [N, BATCH, CONCURRENCY, ROUNDS] = [values.records, values.batch, values.concurrency, values.rounds].map(Number) as [
  number,
  number,
  number,
  number,
];
setTimeout(() => {
  console.error('bench:otlp: timed out');
  process.exit(2);
}, Number(values.timeout) * 1000).unref();

/** One export of `n` SDK log records, as the SDK's exporters would send it. */
function sdkExport(n: number, offset: number): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'execution', 'deployment.environment': 'prod' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('order-router', '4.2.0');
  const now = Date.now() - 60_000;
  for (let k = 0; k < n; k++) {
    const i = offset + k;
    const traceId = (i + 1).toString(16).padStart(32, '0');
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: (i + 1).toString(16).padStart(16, '0'), traceFlags: 1 });
    const attributes = {
      order_id: `ORD-${i}`,
      symbol: 'AAPL',
      quantity: 100 + (i % 50),
      price: 150.25,
      venue: 'XNAS',
      filled: i % 10 !== 0,
    };
    logger.emit({ timestamp: now + i, severityNumber: 9, severityText: 'INFO', body: `order ORD-${i} filled`, attributes, context });
  }
  return exporter.getFinishedLogRecords();
}

/** The same records in our /v1/ingest format. */
function ingestBody(records: ReadableLogRecord[]): string {
  const logs = records.map((r) => ({
    service: 'execution',
    level: 'INFO',
    message: String(r.body),
    data: r.attributes,
    correlation_id: r.spanContext?.traceId,
    timestamp: new Date(r.hrTime[0] * 1000 + r.hrTime[1] / 1e6).toISOString(),
  }));
  return JSON.stringify({ logs });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function post(url: string, headers: Record<string, string>, body: Uint8Array | string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pool<T>(items: T[], fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const exports = Array.from({ length: Math.ceil(N / BATCH) }, (_, b) => sdkExport(Math.min(BATCH, N - b * BATCH), b * BATCH));
  const bodies = {
    ingest: exports.map(ingestBody),
    protobuf: exports.map((e) => ProtobufLogsSerializer.serializeRequest(e)!),
    json: exports.map((e) => JsonLogsSerializer.serializeRequest(e)!),
  };
  const mb = (xs: (Uint8Array | string)[]) => (xs.reduce((a, x) => a + Buffer.byteLength(x), 0) / 1e6).toFixed(1);
  console.log(
    `${N} records in exports of ${BATCH}, concurrency ${CONCURRENCY}: ingest ${mb(bodies.ingest)} MB, protobuf ${mb(bodies.protobuf)} MB, OTLP JSON ${mb(bodies.json)} MB`,
  );
  const db = await startScratchDatabase('bench-otlp');
  const sql = createSql(db.url, { max: 2 });
  const worker = await startWorker({ port: await freePort(), databaseUrl: db.url, stdio: 'ignore' });
  try {
    const key = (
      await createKey(sql, {
        service: '*',
        scopes: ['ingest'],
        name: 'bench',
        rateRecordsPerSecond: 1_000_000_000,
        rateRequestsPerSecond: 1_000_000,
      })
    ).key;
    const targets = {
      ingest: { path: '/v1/ingest', type: 'application/json' },
      protobuf: { path: '/otlp/v1/logs', type: 'application/x-protobuf' },
      json: { path: '/otlp/v1/logs', type: 'application/json' },
    } as const;
    const rates: Record<keyof typeof targets, number[]> = { ingest: [], protobuf: [], json: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ['ingest', 'protobuf', 'json'] as const) {
        await sql`TRUNCATE logging.system_logs`;
        const headers = { authorization: `Bearer ${key}`, 'content-type': targets[kind].type };
        const t = performance.now();
        await pool<Uint8Array | string>(bodies[kind], async (body) => {
          const status = await post(`${worker.url}${targets[kind].path}`, headers, body);
          if (status !== 200) throw new Error(`${kind}: HTTP ${status}`);
        });
        const seconds = (performance.now() - t) / 1000;
        const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs`;
        const n = row!.n;
        if (n !== N) throw new Error(`${kind}: ${n} rows stored, expected ${N}`);
        rates[kind].push(N / seconds);
      }
      const r = (k: keyof typeof targets) => rates[k][round - 1]!;
      console.log(
        `round ${round}: ingest ${r('ingest').toFixed(0)}/s, OTLP protobuf ${r('protobuf').toFixed(0)}/s (${(r('protobuf') / r('ingest')).toFixed(2)}), ` +
          `OTLP JSON ${r('json').toFixed(0)}/s (${(r('json') / r('ingest')).toFixed(2)})`,
      );
    }
    const ratio = (k: 'protobuf' | 'json') => median(rates[k].map((v, i) => v / rates.ingest[i]!)).toFixed(2);
    console.log(`median ratio to /v1/ingest: OTLP protobuf ${ratio('protobuf')}, OTLP JSON ${ratio('json')} over ${ROUNDS} rounds`);
  } finally {
    await worker.stop();
    await sql.end({ timeout: 1 });
    await db.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
