/**
 * Zero loss while Postgres is down: the real Worker (wrangler dev), a real Postgres that the test
 * stops and starts, the local QStash, the real SDK and the client library.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Receiver } from '@upstash/qstash';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../shared/db/client';
import { createKey } from '../../shared/db/api-keys';
import { freePort, migrate, startEmbedded, type Database } from '../../shared/dev/postgres';
import { startWorker, type WorkerProcess } from '../../shared/dev/wrangler';
import { createLogging } from '../../shared/logging';
import { startLocalQStash, type LocalQStash } from '../../shared/dev/qstash/server';
import { DEV_CREDENTIALS } from '../../shared/dev/qstash/signing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A TCP proxy in front of Postgres that can drop a connection right after a large statement
 * commits. It closes connections gracefully (FIN): `wrangler dev`'s local Hyperdrive proxy has no
 * error handler on its database sockets, so a refused or reset connection would crash wrangler
 * itself (production Hyperdrive answers an error instead).
 */
async function pgProxy(target: number) {
  let armed = false;
  let dropped = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    let sent = 0;
    client.on('data', (d) => {
      sent += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      // ReadyForQuery ('Z', length 5) after the big INSERT's Bind: the statement has committed.
      if (armed && sent > 50_000 && d.includes(Buffer.from([0x5a, 0, 0, 0, 5]))) {
        armed = false;
        dropped++;
        client.end();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    const end = () => {
      client.end();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    arm: () => {
      armed = true;
    },
    get dropped() {
      return dropped;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let dir: string;
let pgPort: number;
let db: Database;
let proxy: Awaited<ReturnType<typeof pgProxy>>;
let qstash: LocalQStash;
let worker: WorkerProcess;
let sql: Sql;
let key: string;

async function startPg() {
  db = await startEmbedded({ dataDir: path.join(dir, 'pg'), port: pgPort });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'zero-loss-'));
  chmodSync(dir, 0o755);
  pgPort = await freePort();
  await startPg();
  await migrate(db.url);
  proxy = await pgProxy(pgPort);
  qstash = await startLocalQStash({ retryDelayMs: (n) => Math.min(2000, 200 * 2 ** (n - 1)) });
  const port = await freePort();
  worker = await startWorker({
    port,
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${proxy.port}/postgres`,
    stdio: process.env.DEBUG_WORKER ? 'inherit' : 'ignore',
    vars: {
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: DEV_CREDENTIALS.token,
      QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      QSTASH_RETRIES: '40',
    },
  });
  sql = createSql(db.url, { max: 2 });
  key = (await createKey(sql, { service: '*', name: 'zero-loss' })).key;
}, 180_000);

afterAll(async () => {
  await sql?.end({ timeout: 1 }).catch(() => {});
  await worker?.stop();
  await qstash?.stop();
  await proxy?.close();
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local QStash, driven by the real SDK', () => {
  async function receiver(answers: number[]) {
    const seen: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(answers.shift() ?? 200);
        res.end('{"ok":false}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
  }

  it('publishes, signs as QStash does, retries with Upstash-Retried, deduplicates, dead-letters and calls back', async () => {
    const dest = await receiver([500, 503]);
    const callback = await receiver([]);
    const client = new Client({ baseUrl: qstash.url, token: DEV_CREDENTIALS.token });
    const verifier = new Receiver({ currentSigningKey: DEV_CREDENTIALS.currentSigningKey, nextSigningKey: DEV_CREDENTIALS.nextSigningKey });
    try {
      const body = JSON.stringify({ hello: 'world' });
      const a = await client.publish({
        url: `${dest.url}/hook`,
        body,
        headers: { 'Content-Type': 'application/json', 'X-Custom': 'yes' },
        deduplicationId: 'd-1',
        retries: 3,
      });
      const b = await client.publish({
        url: `${dest.url}/hook`,
        body,
        headers: { 'Content-Type': 'application/json' },
        deduplicationId: 'd-1',
        retries: 3,
      });
      expect(b).toEqual({ messageId: a.messageId, deduplicated: true });
      await qstash.idle();
      expect(dest.seen.map((s) => s.headers['upstash-retried'])).toEqual(['0', '1', '2']);
      const first = dest.seen[0]!;
      expect(first.headers['upstash-message-id']).toBe(a.messageId);
      expect(first.headers['x-custom']).toBe('yes');
      expect(first.body).toBe(body);
      await expect(
        verifier.verify({ signature: first.headers['upstash-signature'] as string, body, url: `${dest.url}/hook` }),
      ).resolves.toBe(true);

      // Exhausted: DLQ and failure callback.
      const gone = await receiver([500, 500]);
      const c = await client.publish({ url: `${gone.url}/x`, body: 'payload', retries: 1, failureCallback: `${callback.url}/failed` });
      await qstash.idle();
      expect(gone.seen).toHaveLength(2);
      expect(callback.seen).toHaveLength(1);
      const cb = JSON.parse(callback.seen[0]!.body);
      expect(cb).toMatchObject({ sourceMessageId: c.messageId, status: 500, retried: 1, maxRetries: 1, url: `${gone.url}/x` });
      expect(Buffer.from(cb.sourceBody, 'base64').toString()).toBe('payload');
      await expect(
        verifier.verify({
          signature: callback.seen[0]!.headers['upstash-signature'] as string,
          body: callback.seen[0]!.body,
          url: `${callback.url}/failed`,
        }),
      ).resolves.toBe(true);
      const dlq = await client.dlq.listMessages();
      const entry = dlq.messages.find((m) => m.messageId === c.messageId)!;
      expect(entry).toMatchObject({ url: `${gone.url}/x`, body: 'payload' });
      await client.dlq.delete(entry.dlqId);
      expect((await client.dlq.listMessages()).messages.find((m) => m.messageId === c.messageId)).toBeUndefined();
      gone.close();

      await expect(new Client({ baseUrl: qstash.url, token: 'wrong' }).publish({ url: dest.url, body: 'x' })).rejects.toThrow(
        /Unauthorized|401/,
      );
    } finally {
      dest.close();
      callback.close();
    }
  });
});

describe('Postgres down', () => {
  it('stopped in the middle of a steady stream of 20,000 records and started 10 s later: every record stored exactly once', async () => {
    const cid = `stream-${crypto.randomUUID()}`;
    const logging = createLogging({
      endpoint: worker.url,
      apiKey: key,
      batchSize: 200,
      flushIntervalMs: 200,
      retryBaseMs: 100,
      maxRetryDelayMs: 1000,
      maxQueueSize: 50_000,
      console: false,
      env: {},
      stderr: () => {},
    });
    const log = logging.getServiceLogger('execution');
    const N = 20_000;
    const started = Date.now();
    let stoppedAt = 0;
    let restartedAt = 0;
    const outage = (async () => {
      await sleep(4000);
      stoppedAt = Date.now();
      await db.stop();
      await sleep(10_000);
      await startPg();
      restartedAt = Date.now();
    })();
    for (let i = 0; i < N; i++) {
      log.info(`s${i}`, { correlation_id: cid, i });
      if (i % 100 === 99) await sleep(100); // ~1,000 records/s for ~20 s
    }
    await outage;
    await logging.flush({ timeoutMs: 60_000 });
    await qstash.idle();
    const counts = await sql<{ n: number; distinct_messages: number; distinct_ids: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT message)::int AS distinct_messages, count(DISTINCT id)::int AS distinct_ids
      FROM logging.system_logs WHERE correlation_id = ${cid}`;
    expect(counts[0]).toEqual({ n: N, distinct_messages: N, distinct_ids: N });
    expect(logging.stats()).toMatchObject({ dropped: 0, failed: 0, rejected: 0 });
    // The outage really happened in the middle of the stream, and QStash carried part of it.
    expect(stoppedAt - started).toBeGreaterThan(3000);
    expect(restartedAt - stoppedAt).toBeGreaterThanOrEqual(10_000);
    expect(qstash.messages.filter((m) => m.url.endsWith('/v1/replay')).length).toBeGreaterThan(0);
  }, 180_000);

  it('the connection dropped right after COMMIT (the ambiguous commit): the replay stores nothing twice', async () => {
    const service = `amb_${crypto.randomUUID().slice(0, 8)}`;
    const logs = Array.from({ length: 500 }, (_, i) => ({
      id: crypto.randomUUID(),
      service,
      level: 'INFO',
      message: `amb ${i} ${'x'.repeat(100)}`,
    }));
    const before = qstash.messages.length;
    proxy.arm();
    const res = await fetch(`${worker.url}/v1/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ logs }),
    });
    expect(proxy.dropped).toBeGreaterThanOrEqual(1);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 500, queued: 500 });
    await qstash.idle();
    const replays = qstash.messages.slice(before);
    expect(replays.length).toBeGreaterThan(0);
    expect(replays.every((m) => m.state === 'delivered')).toBe(true);
    const [row] = await sql<
      { n: number; d: number }[]
    >`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM logging.system_logs WHERE service = ${service}`;
    expect(row).toEqual({ n: 500, d: 500 });
  }, 60_000);

  it('OTLP exports while it is down are answered 200 (held by QStash) and stored once when it returns, retries included', async () => {
    const service = `otel_down_${crypto.randomUUID().slice(0, 8)}`;
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeLogs: [
            {
              logRecords: Array.from({ length: 50 }, (_, i) => ({
                timeUnixNano: String(now - BigInt(i) * 1_000_000n),
                severityNumber: 17,
                body: { stringValue: `hand ${i}` },
              })),
            },
          ],
        },
      ],
    });
    const post = () =>
      fetch(`${worker.url}/otlp/v1/logs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
    const results: number[] = [];
    const exporter = new OTLPLogExporter({ url: `${worker.url}/otlp/v1/logs`, headers: { Authorization: `Bearer ${key}` } });
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      processors: [
        new SimpleLogRecordProcessor({
          exporter: {
            export: (logs, done) =>
              exporter.export(logs, (r) => {
                results.push(r.code);
                done(r);
              }),
            shutdown: () => exporter.shutdown(),
            forceFlush: () => exporter.forceFlush(),
          },
        }),
      ],
    });
    // The key was verified before the outage (keys verified within the last hour are trusted then).
    const warm = await fetch(`${worker.url}/otlp/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(warm.status).toBe(200);
    const before = qstash.messages.length;
    await db.stop();
    try {
      // The same export twice (a client's retry), and the SDK's protobuf export.
      for (const res of [await post(), await post()]) {
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({});
      }
      provider.getLogger('orders').emit({ severityNumber: SeverityNumber.ERROR, body: 'from the SDK' });
      await provider.forceFlush();
      await provider.shutdown();
      expect(results).toEqual([0]); // ExportResultCode.SUCCESS
      // One message per export: the retried one carries the same deduplication id, and QStash drops it.
      expect(qstash.messages.length - before).toBe(2);
    } finally {
      await startPg();
    }
    await qstash.idle();
    expect(qstash.messages.slice(before).every((m) => m.state === 'delivered')).toBe(true);
    const [row] = await sql<{ n: number; d: number; sdk: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT message)::int AS d, count(*) FILTER (WHERE message = 'from the SDK')::int AS sdk
      FROM logging.system_logs WHERE service = ${service}`;
    expect(row).toEqual({ n: 51, d: 51, sdk: 1 });
  }, 120_000);
});
