/**
 * npx tsx test/bench/otlp-decode.ts [-- --records 1000 --rounds 7]
 *
 * What reading one OTLP logs export costs, protobuf (shared/otlp/proto.ts) against JSON. The export
 * is made by the real SDK (sdk-logs 0.223) and serialized both ways by otlp-transformer 0.223, as
 * the OTLP/HTTP exporters do: `records` log records (default 1,000), each with a string body, six
 * attributes (strings, an int, a double, a bool) and a trace context, in one resource and scope.
 * Times per export (median of `rounds` rounds, each the mean of enough exports to last ~200 ms):
 * decodeLogsRequest of the protobuf; TextDecoder + JSON.parse of the JSON (what `await req.json()`
 * does), and that plus parseLogsJson (the JSON path's reading into the same shapes). Prints the
 * bytes of both encodings, raw and gzipped. Single-threaded; on a shared machine, run it twice.
 */
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { parseLogsJson } from '../../shared/otlp/json.ts';
import { decodeLogsRequest } from '../../shared/otlp/proto.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '7' } } });
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);

function makeExport() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'order-router', 'deployment.environment': 'prod', 'host.name': 'ip-10-0-3-17' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('order-router', '4.2.0');
  const hex = (n: number, i: number) => (i + 1).toString(16).padStart(n, '0').slice(-n);
  const now = Date.now();
  for (let i = 0; i < RECORDS; i++) {
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: hex(32, i * 7919), spanId: hex(16, i * 104729), traceFlags: 1 });
    logger.emit({
      timestamp: now + i,
      severityNumber: 9,
      severityText: 'INFO',
      body: `order ORD-${100000 + i} filled: 100 AAPL @ 150.25 on venue XNAS after ${i % 37} ms`,
      attributes: {
        'order.id': `ORD-${100000 + i}`,
        symbol: 'AAPL',
        quantity: 100 + (i % 50),
        price: 150.25 + i / 100,
        venue: 'XNAS',
        'order.filled': i % 10 !== 0,
      },
      context,
    });
  }
  return exporter.getFinishedLogRecords();
}

/** ms per call of `f`: the median of ROUNDS rounds, each the mean over as many calls as fill ~200 ms. */
function time(f: () => unknown): number {
  const start = performance.now();
  f();
  const once = Math.max(performance.now() - start, 0.01);
  const calls = Math.max(1, Math.round(200 / once));
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let c = 0; c < calls; c++) f();
    rounds.push((performance.now() - t) / calls);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

const records = makeExport();
const proto = ProtobufLogsSerializer.serializeRequest(records)!;
const json = JsonLogsSerializer.serializeRequest(records)!;
const utf8 = new TextDecoder();

// Same records both ways, or the comparison means nothing.
const fromProto = decodeLogsRequest(proto).resourceLogs![0]!.scopeLogs![0]!.logRecords!;
if (fromProto.length !== RECORDS || parseLogsJson(JSON.parse(utf8.decode(json))).records.length !== RECORDS)
  throw new Error('record counts differ');

// Warm-up, so that every path is optimized before it is timed.
for (let i = 0; i < 20; i++) {
  decodeLogsRequest(proto);
  parseLogsJson(JSON.parse(utf8.decode(json)));
}

const results = {
  'protobuf: decodeLogsRequest': time(() => decodeLogsRequest(proto)),
  'JSON: TextDecoder + JSON.parse': time(() => JSON.parse(utf8.decode(json))),
  'JSON: JSON.parse alone (string given)': ((s) => time(() => JSON.parse(s)))(utf8.decode(json)),
  'JSON: + parseLogsJson': time(() => parseLogsJson(JSON.parse(utf8.decode(json)))),
};

console.log(`${RECORDS} log records per export (6 attributes, string body, trace context); node ${process.version}`);
console.log(`bytes: protobuf ${proto.length} (gzip ${gzipSync(proto).length}), JSON ${json.length} (gzip ${gzipSync(json).length})`);
for (const [what, ms] of Object.entries(results))
  console.log(`${what.padEnd(40)} ${ms.toFixed(3)} ms/export  ${((ms * 1000) / RECORDS).toFixed(2)} µs/record`);
