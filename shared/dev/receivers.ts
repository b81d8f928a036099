/**
 * Local notification receivers for tests and development, wire-faithful where it matters:
 * - a generic webhook receiver verifying the Standard Webhooks signature with the spec's own
 *   library (`standardwebhooks`) and deduplicating by webhook-id, as the spec asks receivers to;
 * - a Slack incoming-webhook stand-in (200 "ok"; 400 "invalid_payload" without text or blocks;
 *   "invalid_blocks" past 50 blocks or 3,000 characters in a section);
 * - a PagerDuty Events API v2 stand-in (202 with `dedup_key`; 400 "invalid event" naming the
 *   missing fields; one open incident per dedup_key: a trigger on an open one is deduplicated).
 * Each can be told to fail the first attempts of every message (`failFirst`, with 503).
 *
 * @example
 * const r = await startReceivers({ webhookSecret, failFirst: 2 });
 * // r.url('/webhook'), r.url('/slack'), r.url('/pagerduty/v2/enqueue'), r.url('/alertmanager')
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  /** The message's identity: webhook-id, PagerDuty's dedup_key + action, or the body's hash. */
  key: string;
  status: number;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

export interface Receivers {
  url(path: string): string;
  /** Every attempt, answered or refused. */
  attempts: Received[];
  /** The attempts answered with a 2xx. */
  acknowledged(path?: string): Received[];
  /** PagerDuty's incidents by dedup_key. */
  incidents: Map<string, { status: 'triggered' | 'resolved'; triggers: number }>;
  stop(): Promise<void>;
}

function answerWebhook(
  secret: string,
  headers: http.IncomingHttpHeaders,
  raw: string,
  seen: Set<string>,
): { status: number; key: string; body: string } {
  const key = String(headers['webhook-id'] ?? '');
  try {
    new Webhook(secret).verify(raw, {
      'webhook-id': key,
      'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(headers['webhook-signature'] ?? ''),
    });
  } catch (error) {
    return { status: 401, key, body: `bad signature: ${(error as Error).message}` };
  }
  seen.add(key);
  return { status: 200, key, body: 'ok' };
}

function answerSlack(body: { text?: string; blocks?: { text?: { text?: string } }[] }): { status: number; body: string } {
  if (!body.text && !body.blocks) return { status: 400, body: 'invalid_payload' };
  if ((body.blocks?.length ?? 0) > 50 || body.blocks?.some((b) => (b.text?.text?.length ?? 0) > 3000))
    return { status: 400, body: 'invalid_blocks' };
  return { status: 200, body: 'ok' };
}

type PdEvent = {
  routing_key?: string;
  event_action?: string;
  dedup_key?: string;
  payload?: { summary?: string; source?: string; severity?: string };
};

function answerPagerDuty(e: PdEvent, incidents: Receivers['incidents']): { status: number; key: string; body: string } {
  const errors: string[] = [];
  if (e.routing_key?.length !== 32) errors.push('routing_key must be 32 characters');
  if (!['trigger', 'acknowledge', 'resolve'].includes(e.event_action ?? '')) errors.push('event_action is invalid');
  if (e.event_action !== 'trigger' && !e.dedup_key) errors.push('dedup_key is required');
  if (
    e.event_action === 'trigger' &&
    (!e.payload?.summary || !e.payload.source || !['critical', 'error', 'warning', 'info'].includes(e.payload.severity ?? ''))
  )
    errors.push('payload.summary, payload.source and payload.severity are required');
  const key = `${e.dedup_key}/${e.event_action}`;
  if (errors.length)
    return { status: 400, key, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }) };
  const incident = incidents.get(e.dedup_key!);
  if (e.event_action === 'trigger') {
    if (incident?.status === 'triggered') incident.triggers++;
    else incidents.set(e.dedup_key!, { status: 'triggered', triggers: 1 });
  } else if (incident && e.event_action === 'resolve') incident.status = 'resolved';
  return { status: 202, key, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: e.dedup_key }) };
}

export async function startReceivers(options: { webhookSecret: string; failFirst?: number }): Promise<Receivers> {
  const attempts: Received[] = [];
  const tries = new Map<string, number>();
  const incidents: Receivers['incidents'] = new Map();
  const seenIds = new Set<string>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const path = req.url ?? '/';
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      const key = String(
        req.headers['webhook-id'] ??
          ((body as PdEvent)?.dedup_key ? `${(body as PdEvent).dedup_key}/${(body as PdEvent).event_action}` : raw),
      );
      const n = (tries.get(`${path} ${key}`) ?? 0) + 1;
      tries.set(`${path} ${key}`, n);
      let answer: { status: number; body: string };
      if (n <= (options.failFirst ?? 0)) answer = { status: 503, body: 'temporarily unavailable' };
      else if (path.startsWith('/webhook')) answer = answerWebhook(options.webhookSecret, req.headers, raw, seenIds);
      else if (path.startsWith('/slack')) answer = answerSlack(body as never);
      else if (path.startsWith('/pagerduty')) answer = answerPagerDuty(body as PdEvent, incidents);
      else answer = { status: 200, body: '' };
      attempts.push({ path, key, status: answer.status, body, headers: req.headers });
      res.writeHead(answer.status, { 'content-type': path.startsWith('/pagerduty') ? 'application/json' : 'text/plain' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    attempts,
    acknowledged: (p) => attempts.filter((a) => a.status >= 200 && a.status < 300 && (!p || a.path.startsWith(p))),
    incidents,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
