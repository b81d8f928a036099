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
import { DEV_CREDENTIALS, signRequest } from './signing';

export interface LocalQStashOptions {
  /** Default 0 (any free port). */
  port?: number;
  token?: string;
  currentSigningKey?: string;
  nextSigningKey?: string;
  /** Delay before retry number `retried` (1-based). Default: 1 s × 2^(retried-1), at most 30 s. */
  retryDelayMs?: (retried: number) => number;
  /** Largest message body accepted. Default 1 MiB (QStash's free-tier limit). */
  maxMessageBytes?: number;
  /** How long a deduplication id is remembered. Default 10 min, as QStash. */
  deduplicationWindowMs?: number;
  log?: (line: string) => void;
}

interface Message {
  messageId: string;
  url: string;
  method: string;
  header: Record<string, string[]>;
  forward: Record<string, string>;
  body: Buffer;
  maxRetries: number;
  retried: number;
  notBefore: number;
  createdAt: number;
  failureCallback?: string;
  deduplicationKey?: string;
  state: 'pending' | 'delivered' | 'failed';
  lastStatus?: number;
  lastResponseBody?: string;
  lastResponseHeader?: Record<string, string[]>;
}

interface DlqEntry {
  dlqId: string;
  message: Message;
}

export interface LocalQStash {
  url: string;
  /** Every message published, in order. */
  messages: Message[];
  dlq: DlqEntry[];
  /** Resolves when no delivery is pending or in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;

export async function startLocalQStash(options: LocalQStashOptions = {}): Promise<LocalQStash> {
  const token = options.token ?? DEV_CREDENTIALS.token;
  const currentSigningKey = options.currentSigningKey ?? DEV_CREDENTIALS.currentSigningKey;
  const retryDelayMs = options.retryDelayMs ?? ((n: number) => Math.min(30_000, 1000 * 2 ** (n - 1)));
  const maxBytes = options.maxMessageBytes ?? 1024 * 1024;
  const dedupWindow = options.deduplicationWindowMs ?? 10 * 60_000;
  const log = options.log ?? (() => {});
  const messages: Message[] = [];
  const dlq: DlqEntry[] = [];
  const dedup = new Map<string, { messageId: string; at: number }>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let inFlight = 0;
  let callbacksWaiting = 0;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const pendingCount = () => messages.filter((m) => m.state === 'pending').length + inFlight + callbacksWaiting;
  const checkIdle = () => {
    if (pendingCount() === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      waiters.forEach((w) => w());
    }
  };

  function schedule(fn: () => Promise<void>, delayMs: number) {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) void fn();
    }, Math.max(0, delayMs));
    timers.add(t);
  }

  async function signedPost(url: string, method: string, headers: Record<string, string>, body: Buffer) {
    const signature = await signRequest({ key: currentSigningKey, url, body: new Uint8Array(body) });
    return fetch(url, {
      method,
      headers: { ...headers, 'Upstash-Signature': signature },
      body: method === 'GET' || method === 'HEAD' ? undefined : body,
      signal: AbortSignal.timeout(30_000),
    });
  }

  async function deliver(m: Message) {
    inFlight++;
    m.state = 'delivered';
    let ok = false;
    try {
      const res = await signedPost(m.url, m.method, {
        ...m.forward,
        'Upstash-Message-Id': m.messageId,
        'Upstash-Retried': String(m.retried),
        'Upstash-Caller-Ip': '127.0.0.1',
      }, m.body);
      m.lastStatus = res.status;
      m.lastResponseBody = await res.text();
      m.lastResponseHeader = Object.fromEntries([...res.headers].map(([k, v]) => [k, [v]]));
      ok = res.status >= 200 && res.status < 300;
    } catch (error) {
      m.lastStatus = 0;
      m.lastResponseBody = String((error as Error).message);
    }
    if (ok) {
      log(`delivered ${m.messageId} to ${m.url} (retried ${m.retried})`);
    } else if (m.retried < m.maxRetries) {
      m.retried++;
      m.state = 'pending';
      const delay = retryDelayMs(m.retried);
      log(`delivery of ${m.messageId} failed (${m.lastStatus}); retry ${m.retried}/${m.maxRetries} in ${delay} ms`);
      schedule(() => deliver(m), delay);
    } else {
      m.state = 'failed';
      const entry = { dlqId: id('dlq'), message: m };
      dlq.push(entry);
      log(`${m.messageId} exhausted its ${m.maxRetries} retries: dead-lettered as ${entry.dlqId}`);
      if (m.failureCallback) await callFailureCallback(entry, 0);
    }
    inFlight--;
    checkIdle();
  }

  async function callFailureCallback(entry: DlqEntry, attempt: number) {
    const m = entry.message;
    const payload = Buffer.from(JSON.stringify({
      status: m.lastStatus,
      header: m.lastResponseHeader ?? {},
      body: Buffer.from(m.lastResponseBody ?? '').toString('base64'),
      retried: m.retried,
      maxRetries: m.maxRetries,
      dlqId: entry.dlqId,
      sourceMessageId: m.messageId,
      topicName: '',
      endpointName: '',
      url: m.url,
      method: m.method,
      sourceHeader: m.header,
      sourceBody: m.body.toString('base64'),
      notBefore: m.notBefore,
      createdAt: m.createdAt,
      scheduleId: '',
      callerIP: '127.0.0.1',
    }));
    inFlight++;
    let ok = false;
    try {
      const res = await signedPost(m.failureCallback!, 'POST', { 'Content-Type': 'application/json', 'Upstash-Message-Id': id('msg'), 'Upstash-Retried': String(attempt) }, payload);
      ok = res.ok;
    } catch {
      ok = false;
    }
    if (!ok && attempt < m.maxRetries) {
      callbacksWaiting++;
      schedule(async () => {
        callbacksWaiting--;
        await callFailureCallback(entry, attempt + 1);
      }, retryDelayMs(attempt + 1));
    }
    inFlight--;
    checkIdle();
  }

  function publish(destination: string, headers: http.IncomingHttpHeaders, body: Buffer): { status: number; json: unknown } {
    let url: URL;
    try {
      url = new URL(destination);
      if (!['http:', 'https:'].includes(url.protocol)) throw new Error('protocol');
    } catch {
      return { status: 400, json: { error: `invalid destination url: ${destination}` } };
    }
    if (body.length > maxBytes) return { status: 413, json: { error: `message size exceeds the limit of ${maxBytes} bytes` } };
    const h = (name: string) => {
      const v = headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    const forward: Record<string, string> = {};
    const header: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(headers)) {
      const value = Array.isArray(v) ? v.join(', ') : (v ?? '');
      const fwd = /^upstash-forward-(.+)$/i.exec(k);
      if (fwd) forward[fwd[1]!] = value;
      if (k.toLowerCase() === 'content-type') forward['Content-Type'] = value;
      if (fwd || k.toLowerCase() === 'content-type') header[fwd ? fwd[1]! : 'Content-Type'] = [value];
    }
    let dedupKey = h('upstash-deduplication-id');
    if (!dedupKey && h('upstash-content-based-deduplication') === 'true') {
      dedupKey = `content:${url.toString()}:${body.toString('base64')}:${JSON.stringify(forward)}`;
    }
    const now = Date.now();
    if (dedupKey) {
      const seen = dedup.get(dedupKey);
      if (seen && now - seen.at < dedupWindow) return { status: 201, json: { messageId: seen.messageId, deduplicated: true } };
    }
    const delayMatch = /^(\d+)(ms|s|m|h|d)?$/.exec(h('upstash-delay') ?? '');
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
    const delay = delayMatch ? Number(delayMatch[1]) * unit[(delayMatch[2] ?? 's') as keyof typeof unit] : 0;
    const retries = h('upstash-retries');
    const m: Message = {
      messageId: id('msg'),
      url: url.toString(),
      method: h('upstash-method') ?? 'POST',
      header,
      forward,
      body,
      maxRetries: retries !== undefined && /^\d+$/.test(retries) ? Number(retries) : 3,
      retried: 0,
      notBefore: now + delay,
      createdAt: now,
      failureCallback: h('upstash-failure-callback'),
      deduplicationKey: dedupKey,
      state: 'pending',
    };
    messages.push(m);
    if (dedupKey) dedup.set(dedupKey, { messageId: m.messageId, at: now });
    schedule(() => deliver(m), delay);
    log(`published ${m.messageId} → ${m.url} (${body.length} bytes, retries ${m.maxRetries})`);
    return { status: 201, json: { messageId: m.messageId } };
  }

  const dlqView = (e: DlqEntry) => ({
    messageId: e.message.messageId,
    url: e.message.url,
    method: e.message.method,
    header: e.message.header,
    body: e.message.body.toString('utf8'),
    maxRetries: e.message.maxRetries,
    notBefore: e.message.notBefore,
    createdAt: e.message.createdAt,
    callerIP: '127.0.0.1',
    dlqId: e.dlqId,
    responseStatus: e.message.lastStatus,
    responseHeader: e.message.lastResponseHeader,
    responseBody: e.message.lastResponseBody,
    failureCallback: e.message.failureCallback,
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, json?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(json === undefined ? '' : JSON.stringify(json));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'Unauthorized' });
      const body = Buffer.concat(chunks);
      const u = new URL(req.url ?? '/', 'http://local');
      const path = decodeURIComponent(u.pathname);
      if (req.method === 'POST' && path.startsWith('/v2/publish/')) {
        const r = publish(path.slice('/v2/publish/'.length) + u.search, req.headers, body);
        return send(r.status, r.json);
      }
      if (req.method === 'POST' && path === '/v2/batch') {
        let batch: { destination: string; headers?: Record<string, string>; body?: string }[];
        try {
          batch = JSON.parse(body.toString('utf8'));
        } catch {
          return send(400, { error: 'body must be a JSON array' });
        }
        const results = batch.map((b) => {
          const hs = Object.fromEntries(Object.entries(b.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
          return publish(b.destination, hs, Buffer.from(b.body ?? '', 'utf8')).json;
        });
        return send(201, results);
      }
      if (req.method === 'GET' && path === '/v2/dlq') {
        const start = Number(u.searchParams.get('cursor') ?? 0);
        const count = Number(u.searchParams.get('count') ?? 100);
        const page = dlq.slice(start, start + count).map(dlqView);
        return send(200, { messages: page, ...(start + count < dlq.length ? { cursor: String(start + count) } : {}) });
      }
      if (req.method === 'DELETE' && path.startsWith('/v2/dlq')) {
        const ids = path.length > '/v2/dlq/'.length ? [path.slice('/v2/dlq/'.length)] : u.searchParams.getAll('dlqIds');
        let deleted = 0;
        for (const dlqId of ids) {
          const i = dlq.findIndex((e) => e.dlqId === dlqId);
          if (i >= 0) {
            dlq.splice(i, 1);
            deleted++;
          }
        }
        if (ids.length === 1 && path !== '/v2/dlq') return deleted ? send(200) : send(404, { error: 'dlq message not found' });
        return send(200, { deleted });
      }
      if (req.method === 'GET' && path.startsWith('/v2/messages/')) {
        const m = messages.find((x) => x.messageId === path.slice('/v2/messages/'.length));
        return m ? send(200, { messageId: m.messageId, url: m.url, method: m.method, header: m.header, body: m.body.toString('utf8'), maxRetries: m.maxRetries, notBefore: m.notBefore, createdAt: m.createdAt }) : send(404, { error: 'message not found' });
      }
      send(404, { error: `not supported by the local QStash: ${req.method} ${path}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    dlq,
    idle: () => (pendingCount() === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
    stop: async () => {
      stopped = true;
      timers.forEach(clearTimeout);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
