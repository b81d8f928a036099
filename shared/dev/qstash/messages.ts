/** How the local QStash reads a publish request into a message, and shows a dead letter. */
import type http from 'node:http';
import { DAY_MS } from '../../time';
import { id, type DlqEntry, type Message } from './types';

const DELAY_UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS } as const;

/** The Upstash-Forward-* headers (sent on to the destination) and the message's recorded headers. */
function forwardedHeaders(headers: http.IncomingHttpHeaders): { forward: Record<string, string>; header: Record<string, string[]> } {
  const forward: Record<string, string> = {};
  const header: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    const value = Array.isArray(v) ? v.join(', ') : (v ?? '');
    const fwd = /^upstash-forward-(.+)$/i.exec(k);
    if (fwd) forward[fwd[1]!] = value;
    if (k.toLowerCase() === 'content-type') forward['Content-Type'] = value;
    if (fwd || k.toLowerCase() === 'content-type') header[fwd ? fwd[1]! : 'Content-Type'] = [value];
  }
  return { forward, header };
}

export type Parsed = { error: { status: number; json: unknown } } | { message: Message };

/** A publish request as QStash reads it: destination, size limit, dedup key, delay, retries, callback. */
export function parsePublish(destination: string, headers: http.IncomingHttpHeaders, body: Buffer, maxBytes: number, now: number): Parsed {
  let url: URL;
  try {
    url = new URL(destination);
    if (!['http:', 'https:'].includes(url.protocol)) throw new Error('protocol');
  } catch {
    return { error: { status: 400, json: { error: `invalid destination url: ${destination}` } } };
  }
  if (body.length > maxBytes) return { error: { status: 413, json: { error: `message size exceeds the limit of ${maxBytes} bytes` } } };
  const h = (name: string) => {
    const v = headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const { forward, header } = forwardedHeaders(headers);
  let dedupKey = h('upstash-deduplication-id');
  if (!dedupKey && h('upstash-content-based-deduplication') === 'true') {
    dedupKey = `content:${url.toString()}:${body.toString('base64')}:${JSON.stringify(forward)}`;
  }
  const delayMatch = /^(\d+)(ms|s|m|h|d)?$/.exec(h('upstash-delay') ?? '');
  const delay = delayMatch ? Number(delayMatch[1]) * DELAY_UNIT[(delayMatch[2] ?? 's') as keyof typeof DELAY_UNIT] : 0;
  const retries = h('upstash-retries');
  return {
    message: {
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
    },
  };
}

/** A dead letter as QStash's DLQ API lists it. */
export function dlqView(e: DlqEntry) {
  return {
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
  };
}

/** The failure callback's body, as QStash sends it once a message exhausted its retries. */
export function failureCallbackBody(entry: DlqEntry): Buffer {
  const m = entry.message;
  return Buffer.from(
    JSON.stringify({
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
    }),
  );
}
