/**
 * A notification in each receiver's wire format: the generic webhook (signed per Standard
 * Webhooks), Alertmanager's webhook v4, a Slack incoming webhook, PagerDuty Events API v2.
 */
import type { ContactPoint } from './schema';
import type { AlertNotice, Notification } from './notify';

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const b64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's key bytes (Standard Webhooks). */
export async function standardWebhookSignature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const keyBytes = Uint8Array.from(atob(secret.replace(/^whsec_/, '')), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${b64(mac)}`;
}

async function webhook(cp: Extract<ContactPoint, { kind: 'webhook' }>, n: Notification, id: string, now: Date): Promise<OutgoingRequest[]> {
  const body = JSON.stringify({ id, ...n });
  const timestamp = Math.floor(now.getTime() / 1000);
  return [
    {
      url: cp.url,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': await standardWebhookSignature(cp.secret, id, timestamp, body),
      },
      body,
    },
  ];
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function common(alerts: AlertNotice[], pick: (a: AlertNotice) => Record<string, string>): Record<string, string> {
  const [first, ...rest] = alerts.map(pick);
  return Object.fromEntries(Object.entries(first ?? {}).filter(([k, v]) => rest.every((r) => r[k] === v)));
}

function annotations(a: AlertNotice): Record<string, string> {
  return {
    summary: a.summary,
    value: String(a.value ?? ''),
    threshold: String(a.threshold ?? ''),
    window: `${a.window.from}/${a.window.to}`,
    search_url: a.searchUrl,
    ...Object.fromEntries(a.samples.map((s, k) => [`trace_url_${k + 1}`, s.traceUrl])),
  };
}

/** Alertmanager's webhook v4 body, so existing receivers work unchanged. */
export function alertmanagerBody(n: Notification, receiver: string): object {
  return {
    version: '4',
    groupKey: `{}:{alertname="${n.rule.name}"}`,
    truncatedAlerts: 0,
    status: n.status,
    receiver,
    groupLabels: { alertname: n.rule.name },
    commonLabels: common(n.alerts, (a) => a.labels),
    commonAnnotations: common(n.alerts, annotations),
    externalURL: n.externalURL,
    alerts: n.alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: annotations(a),
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? ZERO_TIME,
      generatorURL: n.generatorURL,
      fingerprint: a.fingerprint,
    })),
  };
}

/** Slack's limits: 50 blocks, 3,000 characters of section text, 150 of header text. */
const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

export function slackBody(n: Notification): object {
  const icon = n.status === 'firing' ? ':rotating_light:' : ':white_check_mark:';
  const title = `${icon} [${n.status.toUpperCase()}${n.type === 'test' ? ' TEST' : ''}] ${n.rule.name}`;
  const sections = n.alerts.slice(0, 45).map((a) => {
    const traces = a.samples.map((s) => `<${s.traceUrl}|${s.correlationId}>`).join(' ');
    const text = [
      `*${a.status}* ${a.severity ?? ''} ${a.summary}`,
      `value *${a.value ?? 'n/a'}* vs threshold ${a.threshold ?? 'n/a'}, window ${a.window.from} – ${a.window.to}`,
      traces ? `traces: ${traces}` : '',
      `<${a.searchUrl}|search these logs>`,
    ]
      .filter(Boolean)
      .join('\n');
    return { type: 'section', text: { type: 'mrkdwn', text: cut(text, 3000) } };
  });
  const more = n.alerts.length > 45 ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${n.alerts.length - 45} more` }] }] : [];
  return {
    text: cut(`${title}: ${n.alerts[0]?.summary ?? ''}`, 3000),
    blocks: [{ type: 'header', text: { type: 'plain_text', text: cut(title, 150) } }, ...sections, ...more],
  };
}

/** One PagerDuty event per alert: `trigger` or `resolve`, under a dedup_key stable for the (rule, group). */
export function pagerDutyEvents(n: Notification, routingKey: string): object[] {
  return n.alerts.map((a) => ({
    routing_key: routingKey,
    event_action: a.status === 'firing' ? 'trigger' : 'resolve',
    dedup_key: `${n.rule.name}/${a.fingerprint}`,
    payload: {
      summary: cut(a.summary, 1024),
      source: a.group.service ?? 'log_ingest',
      severity: a.severity === 'critical' ? 'critical' : 'warning',
      timestamp: a.startsAt,
      component: a.group.operation,
      group: a.group.event_type,
      class: n.rule.kind,
      custom_details: { value: a.value, threshold: a.threshold, window: a.window, labels: a.labels },
    },
    links: [
      ...a.samples.map((s) => ({ href: s.traceUrl, text: `trace ${s.correlationId}` })),
      { href: a.searchUrl, text: 'search these logs' },
    ],
    client: 'log_ingest',
    client_url: n.externalURL,
  }));
}

/** The HTTP requests that deliver `n` (id `id`) to `cp`, signed afresh at `now`. */
export async function render(cp: ContactPoint, n: Notification, id: string, now: Date): Promise<OutgoingRequest[]> {
  const json = (body: object): OutgoingRequest => ({
    url: cp.url,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  switch (cp.kind) {
    case 'webhook':
      return webhook(cp, n, id, now);
    case 'alertmanager':
      return [json(alertmanagerBody(n, cp.name))];
    case 'slack':
      return [json(slackBody(n))];
    case 'pagerduty':
      return pagerDutyEvents(n, cp.routingKey).map(json);
  }
}
