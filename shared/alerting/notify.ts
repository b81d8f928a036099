/**
 * A notification as the outbox stores it: contact-point neutral, carrying the evidence (rule,
 * group labels, value against threshold, window, sample traces with links). The renderers
 * (render.ts) turn it into each receiver's wire format.
 */
import { alertLabels } from './labels';
import { durationSeconds, type Rule } from './rules';
import type { AlertNotice, Notification } from './schema';
import type { StoredInstance } from './sql';

export type { AlertNotice, Notification } from './schema';

/** A stable 16-hex-digit id of a label set (FNV-1a, 64 bit), as Alertmanager's fingerprint. */
export function fingerprint(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  for (const [k, v] of Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const ch of `${k}\u00ff${v}\u00ff`) {
      h ^= BigInt(ch.codePointAt(0)!);
      h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
    }
  }
  return h.toString(16).padStart(16, '0');
}

function searchUrl(rule: Rule, group: Record<string, string>, from: Date, to: Date, base: string): string {
  const p = new URLSearchParams();
  const f = 'filter' in rule ? (rule.filter as Record<string, unknown>) : {};
  const service = group.service ?? (f.service as string | undefined);
  if (service) p.set('service', service);
  const level = (f.level as string | undefined) ?? (rule.kind === 'anomaly' && rule.metric === 'errors' ? 'ERROR' : undefined);
  if (level) p.set('level', level);
  const eventType = group.event_type ?? (f.event_type as string | undefined);
  if (eventType) p.set('event_type', eventType);
  if (f.q) p.set('q', String(f.q));
  p.set('from', from.toISOString());
  p.set('to', to.toISOString());
  return `${base}/?${p}`;
}

function describe(rule: Rule, i: StoredInstance): string {
  if (rule.summary) return rule.summary;
  const where = Object.entries(i.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const what =
    rule.kind === 'absence'
      ? `no log for ${i.value ?? '?'} min (limit ${i.threshold ?? '?'} min)`
      : `value ${i.value ?? 'n/a'} against ${i.threshold ?? 'n/a'}`;
  return `${rule.name}${where ? ` (${where})` : ''}: ${what}`;
}

export function buildNotification(
  rule: Rule,
  due: { i: StoredInstance; status: 'firing' | 'resolved' }[],
  minute: Date,
  base: string,
): Notification {
  const from = new Date(minute.getTime() - durationSeconds(rule.window) * 1000);
  const alerts = due.map(({ i, status }): AlertNotice => {
    const labels = alertLabels(rule, i.labels, status === 'firing' ? i.severity : i.notifiedSeverity);
    return {
      status,
      severity: i.severity,
      labels,
      group: i.labels,
      value: i.value,
      threshold: i.threshold,
      window: { from: from.toISOString(), to: minute.toISOString() },
      startsAt: (i.activeSince ?? i.since).toISOString(),
      endsAt: status === 'resolved' ? minute.toISOString() : null,
      summary: describe(rule, i),
      samples: i.samples.slice(0, 5).map((id) => ({ correlationId: id, traceUrl: `${base}/?trace=${encodeURIComponent(id)}` })),
      searchUrl: searchUrl(rule, i.labels, from, minute, base),
      fingerprint: fingerprint(labels),
    };
  });
  return {
    version: '1',
    type: 'alert',
    rule: { name: rule.name, kind: rule.kind, description: rule.description ?? null },
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    externalURL: base,
    generatorURL: `${base}/?alerts=${encodeURIComponent(rule.name)}`,
    evaluatedAt: minute.toISOString(),
  };
}

/** A notification for the "test" button: one firing alert with made-up values, clearly labelled. */
export function testNotification(contactPoint: string, base: string, now: Date): Notification {
  const labels = { alertname: 'TestNotification', severity: 'warning', contact_point: contactPoint };
  return {
    version: '1',
    type: 'test',
    rule: { name: 'test-notification', kind: 'test', description: 'A test sent from the API; no rule fired.' },
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        severity: 'warning',
        labels,
        group: {},
        value: 1,
        threshold: 0,
        window: { from: new Date(now.getTime() - 60_000).toISOString(), to: now.toISOString() },
        startsAt: now.toISOString(),
        endsAt: null,
        summary: `Test notification to contact point "${contactPoint}"`,
        samples: [],
        searchUrl: `${base}/`,
        fingerprint: fingerprint(labels),
      },
    ],
    externalURL: base,
    generatorURL: `${base}/`,
    evaluatedAt: now.toISOString(),
  };
}
