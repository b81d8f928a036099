import { describe, expect, it, vi } from 'vitest';
import { Hono } from 'hono';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  correlationMiddleware,
  createLogging,
  detectService,
  fetchWithCorrelation,
  getCorrelationId,
  parseTraceparent,
  setCorrelationId,
  withCorrelation,
  type LoggingOptions,
} from '../../../shared/logging';
import { callerModule, logPerformance, makeTimed } from '../../../shared/logging/performance';
import { formatPretty } from '../../../shared/logging/format';
import { RecordingSink, sleep } from './helpers';

function setup(options: LoggingOptions = {}) {
  const sink = new RecordingSink();
  const stderr: string[] = [];
  const logging = createLogging({ sink, console: false, env: {}, stderr: (l) => stderr.push(l), ...options });
  return { sink, logging, stderr };
}

describe('service detection (option C)', () => {
  it.each([
    ['src.services.execution.order_manager', 'execution'],
    ['src/services/execution/order_manager.ts', 'execution'],
    ['file:///app/src/services/risk_management/limits.ts', 'risk_management'],
    ['/srv/app/strategy_engine/signals.js', 'strategy_engine'],
    ['C:\\app\\src\\services\\analytics\\report.ts', 'analytics'],
    ['some.other.module', undefined],
  ])('%s → %s', (name, service) => {
    expect(detectService(name)).toBe(service);
  });

  it('getLogger falls back to the default service', () => {
    const { logging } = setup({ service: 'gateway' });
    expect(logging.getLogger('src.services.notification.mailer').service).toBe('notification');
    expect(logging.getLogger('lib.util').service).toBe('gateway');
  });
});

describe('levels', () => {
  it("has the seed's per-service defaults", () => {
    const { logging } = setup();
    expect(logging.levelOf('strategy_engine')).toBe('DEBUG');
    expect(logging.levelOf('risk_management')).toBe('WARNING');
    expect(logging.levelOf('execution')).toBe('INFO');
    expect(logging.levelOf('other')).toBe('INFO');
  });

  it('options and the environment override them (environment last)', () => {
    const { logging } = setup({ level: 'error', serviceLevels: { execution: 'debug' }, env: { LOG_LEVEL_RISK_MANAGEMENT: 'info' } });
    expect(logging.levelOf('execution')).toBe('DEBUG');
    expect(logging.levelOf('risk_management')).toBe('INFO');
    expect(logging.levelOf('other')).toBe('ERROR');
    expect(setup({ level: 'error', env: { LOG_LEVEL: 'warn' } }).logging.levelOf('other')).toBe('WARNING');
  });

  it('a call below the level records nothing', async () => {
    const { logging, sink } = setup();
    const risk = logging.getServiceLogger('risk_management');
    risk.debug('no');
    risk.info('no');
    risk.warning('yes');
    risk.critical('yes');
    await logging.flush();
    expect(sink.logs.map((l) => l.level)).toEqual(['WARNING', 'CRITICAL']);
  });
});

describe('records', () => {
  it('fields become data; bind, event types, correlation and exception', async () => {
    const { logging, sink } = setup();
    const log = logging.getServiceLogger('execution').bind({ venue: 'XNAS' });
    log.info('Order created', { order_id: 'ORD123', symbol: 'AAPL', quantity: 100, price: 150.25 });
    log.withEventType('trading').warn('Slow fill', { ms: 900 });
    log.info('Risk check', { event_type: 'risk', correlation_id: 'explicit-1' });
    withCorrelation('trade-1', () => log.error('Rejected'));
    log.exception(new RangeError('bad qty'), 'Order failed', { order_id: 'ORD9' });
    await logging.flush();
    const [a, b, c, d, e] = sink.logs;
    expect(a).toMatchObject({
      service: 'execution',
      level: 'INFO',
      message: 'Order created',
      data: { venue: 'XNAS', order_id: 'ORD123', symbol: 'AAPL', quantity: 100, price: 150.25 },
    });
    expect(a!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(b).toMatchObject({ level: 'WARNING', event_type: 'trading', data: { venue: 'XNAS', ms: 900 } });
    expect(c).toMatchObject({ event_type: 'risk', correlation_id: 'explicit-1', data: { venue: 'XNAS' } });
    expect(d).toMatchObject({ level: 'ERROR', correlation_id: 'trade-1' });
    expect(e).toMatchObject({
      level: 'ERROR',
      message: 'Order failed',
      data: { order_id: 'ORD9', error: { name: 'RangeError', message: 'bad qty' } },
    });
    expect((e!.data as { error: { stack: string } }).error.stack).toMatch(/RangeError: bad qty\n\s+at /);
  });

  it('never throws into the application, even for unserialisable fields', async () => {
    const { logging, sink } = setup();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const log = logging.getServiceLogger('execution');
    expect(() => log.info('circular', circular)).not.toThrow();
    expect(() => log.info('bigint', { n: 10n })).not.toThrow();
    log.info('fine', { ok: true });
    await logging.flush({ timeoutMs: 1000 });
    expect(sink.logs.map((l) => [l.message, l.data])).toEqual([
      ['circular', { unserialisable: expect.stringMatching(/circular/i) }],
      ['bigint', { unserialisable: expect.stringMatching(/BigInt/i) }],
      ['fine', { ok: true }],
    ]);
  });

  it("prints the seed's console line in development", () => {
    const line = formatPretty(
      {
        kind: 'log',
        time: new Date(2025, 9, 1, 10, 30, 45, 123).getTime(),
        service: 'execution',
        level: 'INFO',
        message: 'Order created',
        data: undefined,
        correlationId: undefined,
        eventType: undefined,
      },
      'execution:create_order:42',
    );
    expect(line).toBe('2025-10-01 10:30:45.123 | INFO     | execution:create_order:42 | Order created');
  });

  it('pretty console lines name the calling function and line; production prints JSON for errors only', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const dev = createLogging({ console: 'pretty', env: {} }).getServiceLogger('execution');
      function create_order() {
        dev.info('Order created');
      }
      create_order();
      expect(out.mock.calls.at(-1)![0]).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| INFO {5}\| execution:create_order:\d+ \| Order created$/,
      );
      out.mockClear();
      const prod = createLogging({ env: { NODE_ENV: 'production' } }).getServiceLogger('execution');
      prod.info('quiet');
      prod.error('loud', { order_id: 'ORD1' });
      expect(out.mock.calls).toHaveLength(1);
      expect(JSON.parse(out.mock.calls[0]![0] as string)).toMatchObject({
        level: 'ERROR',
        service: 'execution',
        message: 'loud',
        data: { order_id: 'ORD1' },
      });
    } finally {
      out.mockRestore();
    }
  });
});

describe('correlation', () => {
  it('follows awaits and timers and never leaks between interleaved flows', async () => {
    const seen: [string, string | undefined][] = [];
    const flow = (id: string, delays: number[]) =>
      withCorrelation(id, async () => {
        for (const d of delays) {
          await sleep(d);
          seen.push([id, getCorrelationId()]);
          await new Promise<void>((r) =>
            setTimeout(() => {
              seen.push([id, getCorrelationId()]);
              r();
            }, d),
          );
        }
      });
    await Promise.all([flow('a', [5, 1, 7]), flow('b', [1, 6, 2]), flow('c', [3, 3, 3])]);
    expect(seen).toHaveLength(18);
    for (const [id, got] of seen) expect(got).toBe(id);
    expect(getCorrelationId()).toBeUndefined();
  });

  it('setCorrelationId changes the current scope only', async () => {
    await withCorrelation('outer', async () => {
      await Promise.all([
        withCorrelation('x', async () => {
          setCorrelationId('x2');
          await sleep(2);
          expect(getCorrelationId()).toBe('x2');
        }),
        withCorrelation('y', async () => {
          await sleep(1);
          expect(getCorrelationId()).toBe('y');
        }),
      ]);
      expect(getCorrelationId()).toBe('outer');
    });
  });

  it('the Hono middleware reads or makes the id and echoes it; fetchWithCorrelation forwards it', async () => {
    const received: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      received.push(req.headers['x-correlation-id'] as string | undefined);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const downstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const app = new Hono();
      app.use(correlationMiddleware());
      app.get('/', async (c) => {
        await fetchWithCorrelation(downstream);
        return c.text(getCorrelationId() ?? 'none');
      });
      const given = await app.request('/', { headers: { 'X-Correlation-ID': 'trade-777' } });
      expect(given.headers.get('x-correlation-id')).toBe('trade-777');
      expect(await given.text()).toBe('trade-777');
      const made = await app.request('/');
      const id = made.headers.get('x-correlation-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await made.text()).toBe(id);
      expect(received).toEqual(['trade-777', id]);
    } finally {
      server.close();
    }
  });
});

describe('W3C trace context', () => {
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const PARENT = '00f067aa0ba902b7';

  it('parses valid traceparents (either case, future versions) and refuses invalid ones', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`, ' congo=t61rcWkgMzE ')).toEqual({
      traceId: TRACE,
      parentId: PARENT,
      flags: '01',
      state: 'congo=t61rcWkgMzE',
    });
    expect(parseTraceparent(`00-${TRACE.toUpperCase()}-${PARENT}-00`)?.traceId).toBe(TRACE);
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-01-what-the-future-adds`)?.traceId).toBe(TRACE);
    for (const bad of [
      undefined,
      '',
      `ff-${TRACE}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.slice(1)}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-01-extra`,
      `00-${TRACE}-${PARENT}`,
      `00-${TRACE.replace('4', 'g')}-${PARENT}-01`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });

  it('the middleware takes the trace id as the correlation id and fetchWithCorrelation passes the context on', async () => {
    const received: Record<string, string | undefined>[] = [];
    const server = http.createServer((req, res) => {
      const h = req.headers as Record<string, string | undefined>;
      received.push({ cid: h['x-correlation-id'], tp: h.traceparent, ts: h.tracestate });
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const downstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const { logging, sink } = setup();
      const log = logging.getServiceLogger('execution');
      const app = new Hono();
      app.use(correlationMiddleware());
      app.get('/', async (c) => {
        log.info('order routed');
        await fetchWithCorrelation(downstream);
        return c.text(getCorrelationId() ?? 'none');
      });
      // traceparent wins over X-Correlation-ID; tracestate travels with it.
      const traced = await app.request('/', {
        headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'rojo=00f067aa0ba902b7', 'X-Correlation-ID': 'trade-1' },
      });
      expect(await traced.text()).toBe(TRACE);
      expect(traced.headers.get('x-correlation-id')).toBe(TRACE);
      // An invalid traceparent is ignored: the X-Correlation-ID stands, and W3C cannot carry it on.
      const invalid = await app.request('/', {
        headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01`, 'X-Correlation-ID': 'trade-2' },
      });
      expect(await invalid.text()).toBe('trade-2');
      // A correlation id that is itself a trace id starts a W3C context downstream.
      const hexId = 'a'.repeat(31) + 'b';
      const hex = await app.request('/', { headers: { 'X-Correlation-ID': hexId } });
      expect(await hex.text()).toBe(hexId);
      await logging.flush();

      expect(received[0]).toEqual({ cid: TRACE, tp: `00-${TRACE}-${PARENT}-01`, ts: 'rojo=00f067aa0ba902b7' });
      expect(received[1]).toEqual({ cid: 'trade-2', tp: undefined, ts: undefined });
      expect(received[2]!.cid).toBe(hexId);
      expect(received[2]!.tp).toMatch(new RegExp(`^00-${hexId}-[0-9a-f]{16}-01$`));
      expect(parseTraceparent(received[2]!.tp)).toBeDefined();
      expect(sink.logs.map((l) => l.correlation_id)).toEqual([TRACE, 'trade-2', hexId]);
    } finally {
      server.close();
    }
  });

  it('a correlation id changed inside the request stops the incoming trace context from travelling', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const downstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const app = new Hono();
      app.use(correlationMiddleware());
      app.get('/', async (c) => {
        setCorrelationId('trade-3');
        await fetchWithCorrelation(downstream);
        return c.text(getCorrelationId() ?? 'none');
      });
      const res = await app.request('/', { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
      expect(await res.text()).toBe('trade-3');
      expect(seen).toEqual([undefined]);
    } finally {
      server.close();
    }
  });
});

describe('performance', () => {
  it('records sync and async calls with timing, CPU, memory, args and correlation id', async () => {
    const { logging, sink } = setup();
    const log = logging.getServiceLogger('strategy_engine');
    const calc = logPerformance(
      (n: number) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += i;
        return s;
      },
      { operation: 'calculate_indicators', memory: true, args: true, logger: log },
    );
    const fetchBars = logPerformance(
      async function fetch_bars(symbol: string) {
        await sleep(20);
        return symbol.length;
      },
      { logger: log },
    );
    expect(calc(100_000)).toBe(4999950000);
    expect(await withCorrelation('trade-9', () => fetchBars('AAPL'))).toBe(4);
    await logging.flush();
    const [m1, m2] = sink.metrics;
    expect(m1).toMatchObject({ service: 'strategy_engine', operation: 'calculate_indicators', data: { args: [100000] } });
    expect(m1!.memory_usage_mb).toBeGreaterThan(1);
    expect(m1!.cpu_usage_percent).toBeGreaterThanOrEqual(0);
    expect(m2).toMatchObject({ operation: 'fetch_bars', correlation_id: 'trade-9' });
    expect(m2!.execution_time_ms).toBeGreaterThanOrEqual(19);
  });

  it('a throwing or rejecting function still records its timing and rethrows the same error', async () => {
    const { logging, sink } = setup();
    const log = logging.getServiceLogger('execution');
    const boom = new Error('boom');
    const syncFail = logPerformance(
      () => {
        throw boom;
      },
      { operation: 'sync_fail', logger: log },
    );
    const asyncFail = logPerformance(
      async () => {
        await sleep(1);
        throw boom;
      },
      { operation: 'async_fail', logger: log },
    );
    expect(() => syncFail()).toThrow(boom);
    await expect(asyncFail()).rejects.toBe(boom);
    await logging.flush();
    expect(sink.metrics.map((m) => [m.operation, m.data])).toEqual([
      ['sync_fail', { error: 'Error: boom' }],
      ['async_fail', { error: 'Error: boom' }],
    ]);
  });

  it('finds the calling module: the first stack frame outside the library', () => {
    const own = new URL('../../../shared/logging/', import.meta.url);
    const stack = [
      'Error',
      `    at logPerformance (${own.href}index.ts:95:40)`,
      `    at ${own.pathname}performance.ts:12:3`,
      '    at file:///app/src/services/execution/order_manager.mjs:8:22',
      '    at ModuleJob.run (node:internal/modules/esm/module_job:271:25)',
    ].join('\n');
    expect(callerModule(stack)).toBe('file:///app/src/services/execution/order_manager.mjs');
    expect(callerModule('Error\n    at Object.<anonymous> (/srv/risk_management/limits.js:3:9)')).toBe('/srv/risk_management/limits.js');
    expect(callerModule('Error\n    at native code')).toBeUndefined();
    expect(callerModule(undefined)).toBeUndefined();
  });

  it("logger.timed records under the logger's service with its bound fields", async () => {
    const { logging, sink } = setup();
    const settle = logging
      .getServiceLogger('risk_management')
      .bind({ desk: 'fx' })
      .timed(async (n: number) => n * 2, { operation: 'settle' });
    expect(await settle(21)).toBe(42);
    await logging.flush();
    expect(sink.metrics.map((m) => [m.service, m.operation, m.data])).toEqual([['risk_management', 'settle', { desk: 'fx' }]]);
  });

  it('works as a standard method decorator', async () => {
    // Applied as the runtime applies `@timed()` (vitest's transform leaves decorator syntax alone;
    // the integration test's child process uses the syntax itself, through tsx).
    const { logging, sink } = setup();
    const timed = makeTimed(() => () => logging.getServiceLogger('execution'));
    class OrderManager {
      constructor(private readonly venue: string) {}
      async createOrder(qty: number) {
        await sleep(2);
        return `${this.venue}:${qty}`;
      }
    }
    const context = { kind: 'method', name: 'createOrder' } as ClassMethodDecoratorContext;
    OrderManager.prototype.createOrder = timed()(OrderManager.prototype.createOrder, context);
    const cancel = timed({ operation: 'cancel' })(
      function cancelOrder() {
        return true;
      },
      { kind: 'method', name: 'cancelOrder' } as ClassMethodDecoratorContext,
    );
    expect(await new OrderManager('XNAS').createOrder(5)).toBe('XNAS:5');
    expect(cancel()).toBe(true);
    await logging.flush();
    expect(sink.metrics.map((m) => m.operation)).toEqual(['createOrder', 'cancel']);
  });
});
