/**
 * OTLP/HTTP JSON logs and traces against the real Worker (wrangler dev) and Postgres: the real
 * OpenTelemetry JS SDK (sdk-logs 0.223 and sdk-trace-base 2.12 with the OTLP/HTTP JSON exporters,
 * gzip on and off) as the client, then hand-made requests for the edges of the wire rules.
 */
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OTLPProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../../shared/db/api-keys';
import { createSql, type Sql } from '../../../shared/db/client';
import { freePort, startScratchDatabase, type Database } from '../../../shared/dev/postgres';
import { startWorker, type WorkerProcess } from '../../../shared/dev/wrangler';

let db: Database;
let sql: Sql;
let worker: WorkerProcess;
let key: string;

beforeAll(async () => {
  db = await startScratchDatabase('otlp-logs');
  sql = createSql(db.url, { max: 2 });
  worker = await startWorker({
    port: await freePort(),
    databaseUrl: db.url,
    // The captured Python export below keeps the time it was made at (2026-12-06).
    vars: { MAX_RECORD_AGE_DAYS: '3650' },
    stdio: process.env.DEBUG_WORKER ? 'inherit' : 'ignore',
  });
  key = (await createKey(sql, { service: '*', scopes: ['ingest'], name: 'otlp' })).key;
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await sql?.end({ timeout: 1 });
  await db?.stop();
});

const SUCCESS = 0;

/** Exports through the SDK's exporter and tells the export's result code. */
function sdkLogger(service: string, options: { apiKey: string; compression?: 'gzip' | 'none'; protobuf?: boolean }) {
  const results: number[] = [];
  const Exporter = options.protobuf ? OTLPProtoLogExporter : OTLPLogExporter;
  const exporter = new Exporter({
    url: `${worker.url}/otlp/v1/logs`,
    headers: { Authorization: `Bearer ${options.apiKey}` },
    compression: options.compression === 'gzip' ? ('gzip' as never) : ('none' as never),
  });
  const recording: LogRecordExporter = {
    export: (logs: ReadableLogRecord[], done) =>
      exporter.export(logs, (r) => {
        results.push(r.code);
        done(r);
      }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test' }),
    processors: [new SimpleLogRecordProcessor({ exporter: recording })],
  });
  return {
    logger: provider.getLogger('orders', '1.2.3'),
    results,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

const rowsOf = (service: string) =>
  sql<
    {
      level: string;
      message: string;
      correlation_id: string | null;
      event_type: string | null;
      data: Record<string, unknown>;
      ts: string;
    }[]
  >`
    SELECT level, message, correlation_id, event_type, data, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts
    FROM logging.system_logs WHERE service = ${service} ORDER BY "timestamp", message`;

describe('the OpenTelemetry JS SDK as the client', () => {
  for (const [protocol, compression] of [
    ['json', 'none'],
    ['json', 'gzip'],
    ['protobuf', 'none'],
    ['protobuf', 'gzip'],
  ] as const) {
    it(`stores what the SDK exports (${protocol}, compression ${compression}), column by column, linked to the trace`, async () => {
      const service = `otel-${protocol}-${compression}`;
      const { logger, results, flush, shutdown } = sdkLogger(service, { apiKey: key, compression, protobuf: protocol === 'protobuf' });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const context = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });
      const at = new Date(Date.now() - 1000);
      logger.emit({
        severityNumber: SeverityNumber.ERROR,
        severityText: 'ERROR',
        body: 'Order rejected by venue',
        attributes: { order_id: 'ORD123', quantity: 100, price: 150.25, 'event.name': 'order_rejected' },
        timestamp: at,
        context,
      });
      logger.emit({ severityNumber: SeverityNumber.WARN2, body: { structured: true, n: 1 }, timestamp: new Date(at.getTime() + 1) });
      await flush();
      await shutdown();
      expect(results).toEqual([SUCCESS, SUCCESS]);
      const rows = await rowsOf(service);
      expect(rows).toHaveLength(2);
      const [error, warning] = rows;
      expect(error).toMatchObject({
        level: 'ERROR',
        message: 'Order rejected by venue',
        correlation_id: traceId,
        event_type: 'order_rejected',
        ts: `${at.toISOString().slice(0, 23)}000Z`,
      });
      expect(error!.data).toMatchObject({
        order_id: 'ORD123',
        quantity: 100,
        price: 150.25,
        span_id: '00f067aa0ba902b7',
        resource: { 'service.name': service, 'deployment.environment': 'test' },
        scope: { name: 'orders', version: '1.2.3' },
        severity: { number: 17, text: 'ERROR' },
      });
      expect(warning).toMatchObject({ level: 'WARNING', message: '{"structured":true,"n":1}', correlation_id: null });
      expect(warning!.data.body).toEqual({ structured: true, n: 1 });
    }, 60_000);
  }

  it('reports FAILED for a wrong key, and stores nothing', async () => {
    const { logger, results, flush, shutdown } = sdkLogger('otel-wrong-key', { apiKey: 'not-a-key' });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'hello' });
    await flush();
    await shutdown();
    expect(results).toEqual([1]);
    expect(await rowsOf('otel-wrong-key')).toHaveLength(0);
  }, 60_000);
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${worker.url}/otlp/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const request = (service: string, records: unknown[]) => ({
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{ scope: { name: 's' }, logRecords: records }],
    },
  ],
});

const nanos = (ms: number) => `${BigInt(ms) * 1_000_000n}`;

describe('hand-made OTLP JSON requests', () => {
  it('stores a retried export once, also when the retries are concurrent, and two identical records of one export twice', async () => {
    const t = nanos(Date.now() - 5000);
    const same = { timeUnixNano: t, severityNumber: 9, body: { stringValue: 'tick' } };
    const body = request('otel-retry', [same, same, { ...same, body: { stringValue: 'tock' } }]);
    expect((await post(body)).status).toBe(200);
    const again = await Promise.all([post(body), post(body)]);
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    expect((await rowsOf('otel-retry')).map((r) => r.message)).toEqual(['tick', 'tick', 'tock']);
  });

  it('reads the wire rules: unknown fields, ids in either case, intValue as string or number, severity 0 with text', async () => {
    const t = Number(nanos(Date.now() - 2000));
    const res = await post({
      unknownTopLevel: 1,
      ...request('otel-wire', [
        {
          timeUnixNano: t,
          severityNumber: 0,
          severityText: 'warn',
          traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
          spanId: '0000000000000000',
          body: { stringValue: 'edges' },
          attributes: [
            { key: 'a', value: { intValue: '9007199254740993' } },
            { key: 'b', value: { intValue: 7 } },
            { key: 'c', value: {} },
            { key: 'd', value: { kvlistValue: { values: [{ key: 'x', value: { arrayValue: { values: [{ boolValue: true }] } } }] } } },
          ],
          someFutureField: { nested: true },
        },
      ]),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const [row] = await rowsOf('otel-wire');
    expect(row).toMatchObject({ level: 'WARNING', correlation_id: '4bf92f3577b34da6a3ce929d0e0e4736', message: 'edges' });
    expect(row!.data).toMatchObject({ a: '9007199254740993', b: 7, c: null, d: { x: [true] } });
    expect(row!.data.span_id).toBeUndefined(); // all zero: not linked
  });

  it('counts what it refuses in partialSuccess with the reasons, and stores the rest', async () => {
    // A kvlist 10,000 levels deep, written as text (JSON.stringify itself would overflow the stack here).
    const deep = `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(10_000)}{"stringValue":"bottom"}${'}]}}'.repeat(10_000)}`;
    const now = Date.now();
    const body = JSON.stringify(
      request('otel-partial', [
        { timeUnixNano: nanos(now - 1000), body: { stringValue: 'kept' } },
        { timeUnixNano: nanos(Date.UTC(1990, 0, 1)), body: { stringValue: 'too old' } },
        { timeUnixNano: nanos(now - 1000), body: 'DEEP' },
        'not a record',
      ]),
    ).replace('"DEEP"', deep);
    const res = await post(body);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedLogRecords).toBe('3');
    expect(answer.partialSuccess.errorMessage).toMatch(
      /record 1: timestamp: .*; record 2: a value is nested deeper than 128 levels; record 3: /,
    );
    expect((await rowsOf('otel-partial')).map((r) => r.message)).toEqual(['kept']);
  });

  it('answers errors as a google.rpc.Status: empty body {}, garbage, wrong type, no key', async () => {
    expect(await (await post({})).json()).toEqual({});
    const garbage = await post('{"resourceLogs": [');
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ code: 3, details: [] });
    const garbageProto = await post('\u00ff\u00ff\u00ff', { 'content-type': 'application/x-protobuf' });
    expect(garbageProto.status).toBe(400);
    expect(garbageProto.headers.get('content-type')).toBe('application/x-protobuf');
    expect(new Uint8Array(await garbageProto.arrayBuffer())[0]).toBe(0x08); // Status.code = …
    const emptyProto = await post('', { 'content-type': 'application/x-protobuf' });
    expect([emptyProto.status, (await emptyProto.arrayBuffer()).byteLength]).toEqual([200, 0]);
    const brotli = await post('{}', { 'content-encoding': 'br' });
    expect([brotli.status, ((await brotli.json()) as { code: number }).code]).toEqual([415, 3]);
    const wrongType = await post('{}', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    const noKey = await fetch(`${worker.url}/otlp/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ code: 16, message: expect.stringMatching(/API key/) });
  });

  it('refuses records of another service from a key scoped to one (spoofed), and stores the key’s own', async () => {
    const scoped = (await createKey(sql, { service: 'otel-own', scopes: ['ingest'], name: 'scoped' })).key;
    const t = nanos(Date.now() - 1000);
    const body = {
      resourceLogs: [
        ...request('otel-own', [{ timeUnixNano: t, body: { stringValue: 'mine' } }]).resourceLogs,
        ...request('otel-other', [{ timeUnixNano: t, body: { stringValue: 'spoofed' } }]).resourceLogs,
      ],
    };
    const res = await post(body, { authorization: `Bearer ${scoped}` });
    const answer = (await res.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedLogRecords).toBe('1');
    expect(answer.partialSuccess.errorMessage).toMatch(/record 1: service/);
    expect((await rowsOf('otel-own')).map((r) => r.message)).toEqual(['mine']);
    expect(await rowsOf('otel-other')).toHaveLength(0);
  });
});

describe('a Python service: loguru through the OpenTelemetry Python SDK (v1.44.0, captured)', () => {
  // test/fixtures/otlp/python-loguru: the exact body the SDK's protobuf exporter sent for app.py.
  const fixture = new URL('../../fixtures/otlp/python-loguru/', import.meta.url);

  it('stores every record with the level loguru meant, bound fields in data and the correlation id it set', async () => {
    const body = await readFile(new URL('export-1.bin', fixture));
    const [{ headers }] = JSON.parse(await readFile(new URL('headers.json', fixture), 'utf8')) as [{ headers: Record<string, string> }];
    const send = () =>
      fetch(`${worker.url}/otlp/v1/logs`, {
        method: 'POST',
        headers: { 'Content-Type': headers['Content-Type']!, 'User-Agent': headers['User-Agent']!, Authorization: `Bearer ${key}` },
        body,
      });
    const res = await send();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    expect((await send()).status).toBe(200); // the exporter's retry: stored once

    const rows = await sql<{ level: string; message: string; correlation_id: string | null; data: Record<string, unknown> }[]>`
      SELECT level, message, correlation_id, data FROM logging.system_logs
      WHERE service = 'execution' AND data->'resource'->>'telemetry.sdk.language' = 'python'
      ORDER BY "timestamp"`;
    expect(rows.map((r) => [r.message.split('\n')[0], r.level])).toEqual([
      ['level trace', 'DEBUG'], // severity 0, text "Level 5"
      ['level debug', 'DEBUG'],
      ['level info', 'INFO'],
      ['level success', 'INFO'], // severity 12, text "Level 25"
      ['level warning', 'WARNING'],
      ['level error', 'ERROR'],
      ['level critical', 'CRITICAL'],
      ['Order placed', 'INFO'],
      ['inside contextualize', 'INFO'],
      ['boom', 'ERROR'],
      ['in span', 'INFO'],
    ]);
    const by = (m: string) => rows.find((r) => r.message.startsWith(m))!;
    expect(by('Order placed').data).toMatchObject({ order_id: 'ORD-1', qty: 100, price: 101.25 });
    expect(by('Order placed').data.extra).toBeUndefined();
    expect(by('inside contextualize').correlation_id).toBe('trade-12345');
    expect(by('in span')).toMatchObject({
      correlation_id: 'd1baa17604bab31823580597eafeadd7',
      data: { span_id: 'f175d6d4f5b05bbf', trace_flags: 3 },
    });
    expect(by('level info').correlation_id).toBeNull();
    expect(by('boom').data).toMatchObject({ 'exception.type': 'ZeroDivisionError', 'exception.message': 'division by zero' });
    expect(by('boom').message).toContain('ZeroDivisionError');
    expect(by('level trace').data).toMatchObject({ severity: { number: 0, text: 'Level 5' }, 'code.line.number': expect.any(Number) });
  });
});

describe('traces from the OpenTelemetry JS SDK', () => {
  it.each(['json', 'protobuf'])(
    'stores spans (%s) as performance records on the trace timeline, with exact durations',
    async (protocol) => {
      const service = `otel-traces-${protocol}`;
      const Exporter = protocol === 'protobuf' ? OTLPProtoTraceExporter : OTLPTraceExporter;
      const exporter = new Exporter({ url: `${worker.url}/otlp/v1/traces`, headers: { Authorization: `Bearer ${key}` } });
      const results: number[] = [];
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [
          new SimpleSpanProcessor({
            export: (spans, done) =>
              exporter.export(spans, (r) => {
                results.push(r.code);
                done(r);
              }),
            shutdown: () => exporter.shutdown(),
          }),
        ],
      });
      const tracer = provider.getTracer('orders');
      const startMs = Date.now() - 2000;
      const start: [number, number] = [Math.floor(startMs / 1000), (startMs % 1000) * 1e6 + 123_456];
      const plus = (ns: number): [number, number] => [start[0] + Math.floor((start[1] + ns) / 1e9), (start[1] + ns) % 1e9];
      const parent = tracer.startSpan('execute_trade', { kind: SpanKind.SERVER, startTime: start, attributes: { symbol: 'AAPL' } });
      const child = tracer.startSpan('create_order', { startTime: plus(1_000_000) }, trace.setSpan(ROOT_CONTEXT, parent));
      child.addEvent('routed');
      child.end(plus(1_000_000 + 45_250_750)); // 45.25075 ms: stored as 45.250
      parent.end(plus(120_000_000));
      await provider.forceFlush();
      await provider.shutdown();
      expect(results).toEqual([SUCCESS, SUCCESS]);
      const traceId = parent.spanContext().traceId;
      const rows = await sql<{ operation: string; execution_time_ms: string; correlation_id: string; data: Record<string, unknown> }[]>`
      SELECT operation, execution_time_ms::text, correlation_id, data FROM logging.performance_logs WHERE service = ${service} ORDER BY "timestamp"`;
      expect(rows.map((r) => [r.operation, r.execution_time_ms, r.correlation_id])).toEqual([
        ['execute_trade', '120.000', traceId],
        ['create_order', '45.250', traceId],
      ]);
      expect(rows[0]!.data).toMatchObject({ symbol: 'AAPL', kind: 'server', span_id: parent.spanContext().spanId, parent_span_id: null });
      expect(rows[1]!.data).toMatchObject({ kind: 'internal', parent_span_id: parent.spanContext().spanId, events: ['routed'] });
      // The spans are on the trace's timeline.
      const read = (await createKey(sql, { service: '*', scopes: ['read'], name: `reader-${protocol}` })).key;
      const timeline = (await (
        await fetch(`${worker.url}/v1/traces/${traceId}`, { headers: { authorization: `Bearer ${read}` } })
      ).json()) as {
        events: { operation?: string }[];
      };
      expect(timeline.events.map((e) => e.operation)).toEqual(['execute_trade', 'create_order']);
    },
    60_000,
  );
});

describe('a database that cannot take the export', () => {
  it('answers 503 with Retry-After as a Status, which the SDK retries: the records are then stored once', async () => {
    // A second Worker whose database port is closed at first; a forwarder to the real one opens after 2 s.
    const port = await freePort();
    const second = await startWorker({
      port: await freePort(),
      databaseUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      readyWhen: 'listening',
      stdio: process.env.DEBUG_WORKER ? 'inherit' : 'ignore',
    });
    const target = Number(new URL(db.url).port);
    const forwarder = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    try {
      const refused = await fetch(`${second.url}/otlp/v1/logs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toMatchObject({ code: 14 });

      const exporter = new OTLPLogExporter({
        url: `${second.url}/otlp/v1/logs`,
        headers: { Authorization: `Bearer ${key}` },
        timeoutMillis: 20_000,
      });
      const provider = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': 'otel-retried' }),
        processors: [new SimpleLogRecordProcessor({ exporter })],
      });
      setTimeout(() => forwarder.listen(port, '127.0.0.1'), 2000);
      const started = Date.now();
      provider
        .getLogger('x')
        .emit({ severityNumber: SeverityNumber.INFO, body: 'after the outage', timestamp: new Date(Date.now() - 500) });
      await provider.forceFlush();
      await provider.shutdown();
      expect(Date.now() - started).toBeGreaterThan(2000); // it was refused, and retried
      expect((await rowsOf('otel-retried')).map((r) => r.message)).toEqual(['after the outage']);
    } finally {
      await second.stop();
      forwarder.close();
    }
  }, 90_000);
});
