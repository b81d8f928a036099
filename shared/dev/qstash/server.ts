/**
 * A QStash-compatible server for development and tests (the official dev server downloads a binary
 * at install, which cannot work offline). It speaks the part of QStash's API that @upstash/qstash
 * uses here: publish (with Upstash-Retries, -Deduplication-Id, -Content-Based-Deduplication,
 * -Failure-Callback, -Delay, -Method and Upstash-Forward-* headers), batch, and the DLQ (list,
 * delete). It delivers with QStash's headers (Upstash-Signature, Upstash-Message-Id,
 * Upstash-Retried), retries failed deliveries with backoff, dead-letters exhausted messages and
 * calls their failure callback, signing every request as QStash does. The default credentials are
 * the official dev server's.
 *
 * @example
 * const qstash = await startLocalQStash({ port: 8080 });
 * // QSTASH_URL=qstash.url QSTASH_TOKEN=DEV_CREDENTIALS.token …
 * await qstash.stop();
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Deliveries } from './delivery';
import { dlqView, parsePublish } from './messages';
import { DEV_CREDENTIALS } from './signing';
import type { LocalQStash, LocalQStashOptions } from './types';

export type { LocalQStash, LocalQStashOptions } from './types';

interface Reply {
  status: number;
  json?: unknown;
}

/** The part of QStash's HTTP API the SDK uses here: publish, batch, the DLQ, a message by id. */
class LocalQStashApi {
  private readonly dedup = new Map<string, { messageId: string; at: number }>();

  constructor(
    readonly deliveries: Deliveries,
    private readonly maxBytes: number,
    private readonly dedupWindowMs: number,
    private readonly log: (line: string) => void,
  ) {}

  route(method: string, url: URL, headers: http.IncomingHttpHeaders, body: Buffer): Reply {
    const path = decodeURIComponent(url.pathname);
    const query = url.searchParams;
    if (method === 'POST' && path.startsWith('/v2/publish/'))
      return this.publish(path.slice('/v2/publish/'.length) + url.search, headers, body);
    if (method === 'POST' && path === '/v2/batch') return this.batch(body);
    if (method === 'GET' && path === '/v2/dlq') return this.listDlq(query);
    if (method === 'DELETE' && path.startsWith('/v2/dlq')) return this.deleteDlq(path, query);
    if (method === 'GET' && path.startsWith('/v2/messages/')) return this.message(path.slice('/v2/messages/'.length));
    return { status: 404, json: { error: `not supported by the local QStash: ${method} ${path}` } };
  }

  publish(destination: string, headers: http.IncomingHttpHeaders, body: Buffer): Reply {
    const now = Date.now();
    const parsed = parsePublish(destination, headers, body, this.maxBytes, now);
    if ('error' in parsed) return parsed.error;
    const m = parsed.message;
    const key = m.deduplicationKey;
    const seen = key ? this.dedup.get(key) : undefined;
    if (seen && now - seen.at < this.dedupWindowMs) return { status: 201, json: { messageId: seen.messageId, deduplicated: true } };
    if (key) this.dedup.set(key, { messageId: m.messageId, at: now });
    this.deliveries.add(m, m.notBefore - now);
    this.log(`published ${m.messageId} → ${m.url} (${body.length} bytes, retries ${m.maxRetries})`);
    return { status: 201, json: { messageId: m.messageId } };
  }

  private batch(body: Buffer): Reply {
    let batch: { destination: string; headers?: Record<string, string>; body?: string }[];
    try {
      batch = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, json: { error: 'body must be a JSON array' } };
    }
    const results = batch.map((b) => {
      const hs = Object.fromEntries(Object.entries(b.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      return this.publish(b.destination, hs, Buffer.from(b.body ?? '', 'utf8')).json;
    });
    return { status: 201, json: results };
  }

  private listDlq(query: URLSearchParams): Reply {
    const dlq = this.deliveries.dlq;
    const start = Number(query.get('cursor') ?? 0);
    const count = Number(query.get('count') ?? 100);
    const page = dlq.slice(start, start + count).map(dlqView);
    return { status: 200, json: { messages: page, ...(start + count < dlq.length ? { cursor: String(start + count) } : {}) } };
  }

  private deleteDlq(path: string, query: URLSearchParams): Reply {
    const dlq = this.deliveries.dlq;
    const ids = path.length > '/v2/dlq/'.length ? [path.slice('/v2/dlq/'.length)] : query.getAll('dlqIds');
    let deleted = 0;
    for (const dlqId of ids) {
      const i = dlq.findIndex((e) => e.dlqId === dlqId);
      if (i >= 0) {
        dlq.splice(i, 1);
        deleted++;
      }
    }
    if (ids.length === 1 && path !== '/v2/dlq')
      return deleted ? { status: 200 } : { status: 404, json: { error: 'dlq message not found' } };
    return { status: 200, json: { deleted } };
  }

  private message(messageId: string): Reply {
    const m = this.deliveries.messages.find((x) => x.messageId === messageId);
    if (!m) return { status: 404, json: { error: 'message not found' } };
    const { url, method, header, maxRetries, notBefore, createdAt } = m;
    return { status: 200, json: { messageId, url, method, header, body: m.body.toString('utf8'), maxRetries, notBefore, createdAt } };
  }
}

export async function startLocalQStash(options: LocalQStashOptions = {}): Promise<LocalQStash> {
  const token = options.token ?? DEV_CREDENTIALS.token;
  const log = options.log ?? (() => {});
  const deliveries = new Deliveries({
    currentSigningKey: options.currentSigningKey ?? DEV_CREDENTIALS.currentSigningKey,
    retryDelayMs: options.retryDelayMs ?? ((n: number) => Math.min(30_000, 1000 * 2 ** (n - 1))),
    log,
  });
  const api = new LocalQStashApi(deliveries, options.maxMessageBytes ?? 1024 * 1024, options.deduplicationWindowMs ?? 10 * 60_000, log);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://local');
      const reply: Reply =
        req.headers.authorization === `Bearer ${token}`
          ? api.route(req.method ?? 'GET', u, req.headers, Buffer.concat(chunks))
          : { status: 401, json: { error: 'Unauthorized' } };
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.json === undefined ? '' : JSON.stringify(reply.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    messages: deliveries.messages,
    dlq: deliveries.dlq,
    idle: () => deliveries.idle(),
    stop: async () => {
      deliveries.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
