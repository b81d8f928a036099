import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogging, HttpSink, type LoggingOptions, type SendResult } from '../../../shared/logging';
import { parseRetryAfter } from '../../../shared/logging/sink';
import { RecordingSink, sleep } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup(options: LoggingOptions = {}) {
  const sink = new RecordingSink();
  const stderr: string[] = [];
  const logging = createLogging({
    sink,
    console: false,
    env: {},
    stderr: (l) => stderr.push(l),
    retryBaseMs: 5,
    maxRetryDelayMs: 20,
    ...options,
  });
  cleanups.push(() => logging.shutdown({ timeoutMs: 100 }));
  return { sink, logging, stderr, log: logging.getServiceLogger('execution') };
}

describe('batching', () => {
  it('ships a batch as soon as batchSize records are queued; what queues meanwhile goes in the next request', async () => {
    const { sink, log } = setup({ batchSize: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 25; i++) log.info(`m${i}`);
    await sleep(50);
    expect(sink.batches.map((b) => b.logs!.length)).toEqual([10, 15]);
  });

  it('coalesces a burst into few requests of at most maxBatchSize while one is in flight', async () => {
    const { sink, logging, log } = setup({ batchSize: 100, maxBatchSize: 1000, flushIntervalMs: 60_000, maxQueueSize: 20_000 });
    const send = sink.send.bind(sink);
    sink.send = async (b) => {
      await sleep(30); // a request's round trip
      return send(b);
    };
    for (let i = 0; i < 5000; i++) log.info(`m${i}`);
    await logging.flush();
    const sizes = sink.batches.map((b) => b.logs!.length);
    expect(sizes[0]).toBe(100);
    expect(sizes.slice(1).every((n) => n === 1000 || n === 900)).toBe(true);
    expect(sizes).toHaveLength(6);
    expect(sink.logs.map((l) => l.message)).toEqual(Array.from({ length: 5000 }, (_, i) => `m${i}`));
    expect(logging.stats()).toMatchObject({ shipped: 5000, batches: 6, dropped: 0 });
  });

  it('ships a partial batch after flushIntervalMs', async () => {
    const { sink, log } = setup({ batchSize: 100, flushIntervalMs: 40 });
    log.info('lonely');
    await sleep(10);
    expect(sink.batches).toHaveLength(0);
    await sleep(80);
    expect(sink.logs.map((l) => l.message)).toEqual(['lonely']);
  });

  it('logs and metrics share a batch; ids are set once and kept for resends', async () => {
    const { sink, logging, log } = setup({ batchSize: 100 });
    sink.script = [{ ok: false, retryable: true, status: 503, reason: 'HTTP 503' }];
    const sent: string[][] = [];
    const original = sink.send.bind(sink);
    sink.send = async (b) => {
      sent.push([...(b.logs ?? []), ...(b.metrics ?? [])].map((r) => r.id!));
      return original(b);
    };
    log.info('a');
    log.metric('op', 1.5);
    await logging.flush();
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual(sent[1]);
    expect(sink.batches[0]).toMatchObject({ logs: [{ message: 'a' }], metrics: [{ operation: 'op', execution_time_ms: 1.5 }] });
  });
});

describe('bounded queue', () => {
  it('drops the oldest queued records when full, counts them, and ships the count as a WARNING once there is room', async () => {
    const { sink, logging, log, stderr } = setup({ batchSize: 10, maxQueueSize: 50, flushIntervalMs: 60_000 });
    let down = true;
    const original = sink.send.bind(sink);
    sink.send = async (b) => (down ? { ok: false, retryable: true, status: 503, reason: 'HTTP 503' } : original(b));
    for (let i = 0; i < 53; i++) log.info(`m${i}`);
    expect(logging.stats()).toMatchObject({ dropped: 3 });
    expect(stderr.some((l) => /queue was full/.test(l))).toBe(true);
    down = false;
    await logging.flush();
    const messages = sink.logs.map((l) => l.message);
    // 0-9 were in flight (kept); 10, 11, 12 were the oldest queued when the queue overflowed.
    expect(messages.filter((m) => m.startsWith('m'))).toEqual(
      Array.from({ length: 53 }, (_, i) => `m${i}`).filter((m) => !['m10', 'm11', 'm12'].includes(m)),
    );
    const warning = sink.logs.find((l) => l.level === 'WARNING');
    expect(warning).toMatchObject({ data: { dropped: 3, max_queue_size: 50 } });
    expect(warning!.message).toMatch(/dropped 3 records/);
  });
});

describe('delivery failures', () => {
  it('retries network errors, 429, 502, 503 and 504 with backoff, honouring Retry-After', async () => {
    const { sink, logging, log } = setup();
    const fail = (status: number, retryAfterMs?: number) => ({
      ok: false as const,
      retryable: true,
      status,
      retryAfterMs,
      reason: `HTTP ${status}`,
    });
    sink.script = [{ ok: false, retryable: true, reason: 'network error: ECONNREFUSED' }, fail(429, 120), fail(502), fail(503), fail(504)];
    log.info('persistent');
    const t0 = Date.now();
    await logging.flush();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
    expect(sink.logs.map((l) => l.message)).toEqual(['persistent']);
  });

  it('does not retry other 4xx: reports once on stderr with the records, and goes on', async () => {
    const { sink, logging, log, stderr } = setup({ batchSize: 1, maxBatchSize: 1 });
    let calls = 0;
    const original = sink.send.bind(sink);
    sink.send = async (b) =>
      ++calls <= 2 ? { ok: false, retryable: false, status: 401, reason: 'HTTP 401: invalid or revoked API key' } : original(b);
    log.info('first');
    log.info('second');
    log.info('third');
    await logging.flush();
    expect(calls).toBe(3);
    expect(stderr.filter((l) => /refused permanently/.test(l))).toHaveLength(1);
    expect(stderr.filter((l) => l.includes('"undelivered"')).map((l) => JSON.parse(l).message)).toEqual(['first', 'second']);
    expect(sink.logs.map((l) => l.message)).toEqual(['third']);
  });

  it('splits a batch the server finds too large', async () => {
    const { sink, logging, log } = setup({ batchSize: 8 });
    const original = sink.send.bind(sink);
    sink.send = async (b) => ((b.logs?.length ?? 0) > 2 ? { ok: false, retryable: false, status: 413, reason: 'HTTP 413' } : original(b));
    for (let i = 0; i < 8; i++) log.info(`m${i}`);
    await logging.flush();
    expect(sink.batches.map((b) => b.logs!.length)).toEqual([2, 2, 2, 2]);
    expect(sink.logs.map((l) => l.message)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('prints per-record rejections of a partial success with their reasons', async () => {
    const { sink, logging, log, stderr } = setup();
    sink.rejectWith = [
      {
        index: 1,
        kind: 'log',
        issues: [{ path: 'service', code: 'spoofed_service', message: 'this API key may only send records of service "x"' }],
      },
    ];
    log.info('ok');
    log.info('refused one');
    await logging.flush();
    expect(stderr.some((l) => /rejected by the server: service: this API key may only send/.test(l) && l.includes('refused one'))).toBe(
      true,
    );
    expect(logging.stats()).toMatchObject({ rejected: 1 });
  });

  it('flush and shutdown return by their deadline while the endpoint is down, and keep the records', async () => {
    const { sink, logging, log } = setup({ retryBaseMs: 1000, maxRetryDelayMs: 1000 });
    sink.send = async () => ({ ok: false, retryable: true, status: 503, reason: 'HTTP 503', retryAfterMs: 10_000 });
    log.info('stuck');
    const t0 = Date.now();
    await logging.flush({ timeoutMs: 150 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(logging.transport!.size).toBe(1);
  });

  it('shutdown counts a delivery still in flight at its deadline among the records not delivered', async () => {
    const { sink, logging, log, stderr } = setup();
    sink.send = () => new Promise(() => {}); // a sink that never answers
    log.info('in flight');
    log.info('also in flight');
    const t0 = Date.now();
    await logging.shutdown({ timeoutMs: 100 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(stderr).toContain('logging: 2 records not delivered before the shutdown deadline');
  });

  it('a rate-limited stderr cannot be flooded by a dead endpoint', async () => {
    const { sink, logging, log, stderr } = setup({ batchSize: 1 });
    sink.send = async () => ({ ok: false, retryable: false, status: 400, reason: 'HTTP 400' });
    for (let i = 0; i < 500; i++) log.info(`m${i}`);
    await logging.flush();
    expect(stderr.length).toBeLessThanOrEqual(50);
  });
});

describe('HttpSink', () => {
  async function server(handler: http.RequestListener) {
    const s = http.createServer(handler);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => s.close(r)));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('POSTs gzip JSON with the key to /v1/ingest and maps answers to results', async () => {
    const seen: { url?: string; auth?: string; encoding?: string; body?: unknown }[] = [];
    let status = 200;
    let quota = false;
    const endpoint = await server((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () => {
        seen.push({
          url: req.url,
          auth: req.headers.authorization,
          encoding: req.headers['content-encoding'],
          body: JSON.parse(gunzipSync(Buffer.concat(parts)).toString()),
        });
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '2' } : {}) });
        res.end(
          JSON.stringify(
            status === 200
              ? { accepted: 1, duplicates: 0, sanitized: 0, rejected: [] }
              : quota
                ? { code: 'QUOTA_EXCEEDED', message: 'daily quota used up' }
                : { code: 'X', message: 'nope' },
          ),
        );
      });
    });
    const sink = new HttpSink({ endpoint, apiKey: 'lk_test' });
    const batch = { logs: [{ service: 'execution', level: 'INFO' as const, message: 'hi' }] };
    expect(await sink.send(batch)).toEqual({ ok: true, rejected: [] });
    expect(seen[0]).toEqual({ url: '/v1/ingest', auth: 'Bearer lk_test', encoding: 'gzip', body: batch });
    status = 429;
    expect(await sink.send(batch)).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 2000 });
    status = 400;
    expect(await sink.send(batch)).toMatchObject({ ok: false, retryable: false, status: 400, reason: 'HTTP 400: nope' });
    quota = true; // a 429 for a spent daily quota is not retried
    status = 429;
    expect(await sink.send(batch)).toMatchObject({ ok: false, retryable: false, status: 429, reason: expect.stringMatching(/quota/) });
  });

  it('answers 413 itself, unsent, for a body over maxBodyBytes, and the transport splits the batch', async () => {
    const bodies: number[] = [];
    const endpoint = await server((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () => {
        bodies.push(gunzipSync(Buffer.concat(parts)).byteLength);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"rejected":[]}');
      });
    });
    const sink = new HttpSink({ endpoint, apiKey: 'k', maxBodyBytes: 10_000 });
    const logging = createLogging({ sink, console: false, env: {}, batchSize: 40, maxBatchSize: 40 });
    cleanups.push(() => logging.shutdown({ timeoutMs: 100 }));
    const log = logging.getServiceLogger('execution');
    for (let i = 0; i < 40; i++) log.info('é'.repeat(400)); // 800 bytes of UTF-8 each: 32 KB in all
    await logging.flush();
    expect(logging.stats()).toMatchObject({ shipped: 40, failed: 0 });
    expect(bodies.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...bodies)).toBeLessThanOrEqual(10_000);
  });

  it('a refused connection is a retryable network error', async () => {
    const sink = new HttpSink({ endpoint: 'http://127.0.0.1:1', apiKey: 'k' });
    expect(await sink.send({ logs: [] })).toMatchObject({ ok: false, retryable: true, reason: expect.stringMatching(/network error/) });
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('spool', () => {
  const fsp = () => import('node:fs/promises');
  async function tmpDir() {
    const { mkdtemp, rm } = await fsp();
    const os = await import('node:os');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-test-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }
  const down: SendResult = { ok: false, retryable: true, status: 503, reason: 'HTTP 503' };

  it('a full queue spills its oldest batch to disk instead of dropping; all is sent, in order, once the endpoint answers', async () => {
    const dir = await tmpDir();
    const { sink, logging, log } = setup({
      batchSize: 50,
      maxBatchSize: 100,
      maxQueueSize: 300,
      spool: { dir },
      retryBaseMs: 20,
      maxRetryDelayMs: 20,
    });
    let up = false;
    sink.script = Array.from({ length: 10_000 }, () => () => (up ? { ok: true, rejected: [] } : down));
    await sleep(20); // the spool opens asynchronously
    for (let i = 0; i < 2000; i++) log.info(`m${i}`);
    await sleep(100);
    const files = (await (await fsp()).readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(10);
    expect(logging.stats()).toMatchObject({ dropped: 0, shipped: 0 });
    expect(logging.stats()!.onDisk).toBeGreaterThan(1500);
    up = true;
    await logging.flush({ timeoutMs: 10_000 });
    expect(sink.logs.map((l) => l.message)).toEqual(Array.from({ length: 2000 }, (_, i) => `m${i}`));
    expect(logging.stats()).toMatchObject({ shipped: 2000, dropped: 0, onDisk: 0 });
    expect((await (await fsp()).readdir(dir)).length).toBe(0);
  });

  it('a spool at its cap drops its oldest batches and the count ships as a WARNING', async () => {
    const dir = await tmpDir();
    const { sink, logging, log } = setup({
      batchSize: 100,
      maxBatchSize: 100,
      maxQueueSize: 200,
      spool: { dir, maxBytes: 40_000 },
      retryBaseMs: 20,
      maxRetryDelayMs: 20,
    });
    let up = false;
    sink.script = Array.from({ length: 10_000 }, () => () => (up ? { ok: true, rejected: [] } : down));
    await sleep(20);
    for (let i = 0; i < 3000; i++) log.info(`m${i}`, { i });
    await sleep(100);
    const dropped = logging.stats()!.dropped;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped % 100).toBe(0); // whole batches
    up = true;
    await logging.flush({ timeoutMs: 10_000 });
    const warning = sink.logs.find((l) => l.message.startsWith('logging dropped'));
    expect(warning).toMatchObject({ level: 'WARNING', data: { dropped } });
    const shipped = sink.logs.filter((l) => l !== warning).map((l) => l.message);
    expect(shipped).toHaveLength(3000 - dropped);
    expect(shipped.at(-1)).toBe('m2999'); // the newest are kept, the oldest dropped
    expect(new Set(shipped).size).toBe(shipped.length);
  });

  it('sends what an earlier run left, oldest first; an unreadable file costs only its own batch', async () => {
    const dir = await tmpDir();
    const { writeFile, readdir } = await fsp();
    const batch = (from: number, n: number) =>
      JSON.stringify({
        logs: Array.from({ length: n }, (_, i) => ({
          id: crypto.randomUUID(),
          timestamp: new Date().toISOString(),
          service: 'execution',
          level: 'INFO',
          message: `old${from + i}`,
        })),
      });
    await writeFile(path.join(dir, '1000-000000-3.json'), batch(0, 3));
    await writeFile(path.join(dir, '1001-000001-3.json'), batch(3, 3).slice(0, 90)); // died mid-write
    await writeFile(path.join(dir, '1002-000002-2.json'), batch(6, 2));
    await writeFile(path.join(dir, '1003-000003-5.json.tmp'), batch(8, 5).slice(0, 50)); // never renamed
    const { sink, logging } = setup({ spool: { dir } });
    await sleep(100);
    await logging.flush({ timeoutMs: 5_000 });
    expect(sink.logs.map((l) => l.message)).toEqual([
      'old0',
      'old1',
      'old2',
      'old6',
      'old7',
      expect.stringMatching(/^logging dropped 3 records/),
    ]);
    expect(await readdir(dir)).toEqual([]);
  });
});
