/**
 * Notifications exactly once, end to end: the evaluator (in Node, as `npm run alerts -- evaluate`
 * runs it) commits transitions and their outbox rows, publishes them to the local QStash, which
 * delivers them to the real Worker (wrangler dev), which sends them to the local receivers. Every
 * receiver fails the first two attempts of every message; a run dies after QStash took its rows
 * but before it marked them published; two runs overlap; Postgres restarts in the middle of an
 * evaluation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAlertingFile, evaluateAlerts, listNotifications, runEvaluation } from '../../../shared/alerting';
import { createSql, type Sql } from '../../../shared/db/client';
import { createKey } from '../../../shared/db/api-keys';
import { freePort, startScratchDatabase, type Database } from '../../../shared/dev/postgres';
import { startLocalQStash, type LocalQStash } from '../../../shared/dev/qstash/server';
import { DEV_CREDENTIALS } from '../../../shared/dev/qstash/signing';
import { startReceivers, type Receivers } from '../../../shared/dev/receivers';
import { startWorker, type WorkerProcess } from '../../../shared/dev/wrangler';
import { parseSettings } from '../../../shared/env';
import { insertBatch, type LogRow } from '../../../shared/ingest';
import { publishDeliveries } from '../../../shared/qstash';
import { SCHEDULES } from '../../../shared/env';

const SECRET = `whsec_${Buffer.from('a-32-byte-secret-for-the-tests!!').toString('base64')}`;
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
let db: Database;
let sql: Sql;
let qstash: LocalQStash;
let receivers: Receivers;
let worker: WorkerProcess;
let adminKey: string;
const vars = () => ({
  QSTASH_URL: qstash.url,
  QSTASH_TOKEN: DEV_CREDENTIALS.token,
  QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
  QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
  QSTASH_RETRIES: '5',
  PUBLIC_URL: worker?.url ?? '',
  // A run that dies with the database holds its lease this long (55 s by default).
  ALERT_LEASE_SECONDS: '3',
});

beforeAll(async () => {
  db = await startScratchDatabase('alerting-delivery');
  sql = createSql(db.url, { max: 4 });
  qstash = await startLocalQStash({ retryDelayMs: () => 100 });
  receivers = await startReceivers({ webhookSecret: SECRET, failFirst: 2 });
  const port = await freePort();
  worker = await startWorker({
    port,
    databaseUrl: db.url,
    stdio: process.env.DEBUG_WORKER ? 'inherit' : 'ignore',
    vars: { ...vars(), PUBLIC_URL: `http://127.0.0.1:${port}` },
  });
  adminKey = (await createKey(sql, { service: '*', scopes: ['admin', 'read'], name: 'alerts' })).key;
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await qstash?.stop();
  await receivers?.stop();
  await sql?.end({ timeout: 1 }).catch(() => {});
  await db?.stop();
});

const MIN = 60_000;
const start = Math.floor(Date.now() / MIN) * MIN;
const t = (m: number) => new Date(start + m * MIN);

function errors(service: string, n: number, at: Date): LogRow[] {
  return Array.from({ length: n }, () => ({
    id: crypto.randomUUID(),
    service,
    level: 'ERROR',
    message: 'order rejected by venue',
    data: null,
    correlation_id: `trade-${crypto.randomUUID().slice(0, 8)}`,
    event_type: 'order_rejected',
    timestamp: at.toISOString(),
  }));
}

describe('notifications through the outbox and QStash', () => {
  it('delivers each transition once to every receiver, through failures, a crashed run and overlapping runs', async () => {
    await applyAlertingFile(
      sql,
      {
        contactPoints: [
          { name: 'hook', kind: 'webhook', url: receivers.url('/webhook'), secret: SECRET },
          { name: 'am', kind: 'alertmanager', url: receivers.url('/alertmanager') },
          { name: 'slack', kind: 'slack', url: receivers.url('/slack') },
          { name: 'pd', kind: 'pagerduty', url: receivers.url('/pagerduty/v2/enqueue'), routingKey: ROUTING_KEY },
        ],
        rules: [
          {
            name: 'rejections',
            kind: 'log_threshold',
            filter: { level: 'ERROR', event_type: 'order_rejected' },
            window: '5m',
            groupBy: ['service'],
            thresholds: { critical: 3 },
            groupInterval: '0m',
            contactPoints: ['hook', 'am', 'slack', 'pd'],
          },
        ],
      },
      'test',
    );
    await insertBatch(sql, [...errors('execution', 5, t(-1)), ...errors('risk', 4, t(-1))], []);
    const settings = parseSettings(vars());
    const base = worker.url;
    const run = (now: Date) => evaluateAlerts(sql, settings, now, base);
    // The first run dies after QStash took its rows, before it could mark them published.
    const dying = runEvaluation(sql, {
      now: t(0),
      delaySeconds: 0,
      publicUrl: base,
      publish: async (rows) => {
        await publishDeliveries(
          settings,
          base,
          rows.map((r) => r.id),
        );
        throw new Error('the run died here');
      },
    });
    await expect(dying).rejects.toThrow('the run died here');
    // Two overlapping runs of the same minute: one takes the lease; the outbox is published again (deduplicated by id).
    const [a, b] = await Promise.all([run(new Date(t(0).getTime() + 15_000)), run(new Date(t(0).getTime() + 15_000))]);
    expect([a.skipped, b.skipped]).toContain('lease held');
    // Rows whose first delivery attempt already ran are no longer pending: republished or not, QStash has them.
    expect(Math.max(a.published, b.published)).toBeLessThanOrEqual(4);
    await qstash.idle();
    // Resolved: the groups are gone from the results for two evaluations.
    await run(new Date(t(6).getTime() + 15_000));
    const resolved = await run(new Date(t(7).getTime() + 15_000));
    expect(resolved.notifications).toBe(4);
    await qstash.idle();

    const hook = receivers.acknowledged('/webhook');
    expect(hook).toHaveLength(2);
    expect(new Set(hook.map((h) => h.key)).size).toBe(2);
    expect(hook.map((h) => (h.body as { status: string }).status)).toEqual(['firing', 'resolved']);
    expect(receivers.attempts.filter((x) => x.path === '/webhook')).toHaveLength(6); // 2 refused + 1 acknowledged, each
    const firing = hook[0]!.body as { alerts: { labels: Record<string, string>; samples: { traceUrl: string }[] }[] };
    expect(firing.alerts.map((x) => x.labels.service).sort()).toEqual(['execution', 'risk']);
    expect(firing.alerts[0]!.samples.length).toBeGreaterThan(0);
    expect(firing.alerts[0]!.samples[0]!.traceUrl).toMatch(/\/\?trace=trade-/);

    const am = receivers
      .acknowledged('/alertmanager')
      .map((x) => x.body as { version: string; status: string; alerts: { fingerprint: string; endsAt: string }[] });
    expect(am.map((x) => [x.version, x.status, x.alerts.length])).toEqual([
      ['4', 'firing', 2],
      ['4', 'resolved', 2],
    ]);
    expect(am[0]!.alerts[0]!.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(am[1]!.alerts.map((x) => x.fingerprint).sort()).toEqual(am[0]!.alerts.map((x) => x.fingerprint).sort());

    expect(receivers.acknowledged('/slack')).toHaveLength(2);
    // One incident per group, triggered and resolved under one dedup_key. A delivery carries one
    // event per group; when a later event of it is refused, the retry repeats the earlier trigger,
    // which PagerDuty deduplicates into the open incident.
    expect(receivers.incidents.size).toBe(2);
    expect([...receivers.incidents.values()].map((i) => i.status)).toEqual(['resolved', 'resolved']);

    const ledger = await listNotifications(sql, { limit: 100 });
    expect(ledger).toHaveLength(8);
    expect(ledger.every((n) => n.status === 'delivered')).toBe(true);
    expect(ledger.filter((n) => n.contact_point === 'hook').map((n) => n.attempts)).toEqual([3, 3]);
  }, 120_000);

  it('sends a test notification from the API, and stops retrying a permanent refusal', async () => {
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const wrong = {
      name: 'wrong-secret',
      kind: 'webhook',
      url: receivers.url('/webhook'),
      secret: `whsec_${Buffer.from('another-secret-of-32-bytes-here!').toString('base64')}`,
    };
    expect(
      (await fetch(`${worker.url}/v1/alerts/contact-points/wrong-secret`, { method: 'PUT', headers, body: JSON.stringify(wrong) })).status,
    ).toBe(200);
    const ok = (await (await fetch(`${worker.url}/v1/alerts/contact-points/hook/test`, { method: 'POST', headers })).json()) as {
      id: string;
      published: boolean;
    };
    const bad = (await (await fetch(`${worker.url}/v1/alerts/contact-points/wrong-secret/test`, { method: 'POST', headers })).json()) as {
      id: string;
    };
    expect(ok.published).toBe(true);
    await qstash.idle();
    const res = await fetch(`${worker.url}/v1/alerts/notifications?limit=100`, { headers });
    const { notifications } = (await res.json()) as {
      notifications: { id: string; status: string; attempts: number; last_status: number }[];
    };
    expect(notifications.find((n) => n.id === ok.id)).toMatchObject({ status: 'delivered' });
    // 503, 503 (the receiver's injected failures), then 401 (a bad signature): failed, not retried again.
    expect(notifications.find((n) => n.id === bad.id)).toMatchObject({ status: 'failed', attempts: 3, last_status: 401 });
    expect(receivers.acknowledged('/webhook').some((h) => h.key === ok.id && (h.body as { type: string }).type === 'test')).toBe(true);
  }, 60_000);

  it('refuses a rule naming the field that is wrong, and saves nothing', async () => {
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const put = (rule: object) =>
      fetch(`${worker.url}/v1/alerts/rules/bad`, { method: 'PUT', headers, body: JSON.stringify({ name: 'bad', ...rule }) });
    const cases: [object, string][] = [
      [{ kind: 'log_threshold', window: '5m', thresholds: { critical: 1 }, colour: 'red' }, ''],
      [{ kind: 'log_threshold', window: '90s', thresholds: { critical: 1 } }, 'window'],
      [{ kind: 'latency', window: '5m', thresholds: { critical: 'fast' } }, 'thresholds.critical'],
      [{ kind: 'log_threshold', window: '5m', thresholds: { critical: 1 }, contactPoints: ['nowhere'] }, 'contactPoints.0'],
    ];
    for (const [rule, path] of cases) {
      const res = await put(rule);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; issues: { path: string; message: string }[] };
      expect(body.code).toBe('BAD_REQUEST');
      expect(body.issues.map((i) => i.path)).toContain(path);
    }
    const read = await fetch(`${worker.url}/v1/alerts/rules`, { headers });
    expect(((await read.json()) as { rules: { rule: { name: string } }[] }).rules.map((r) => r.rule.name)).toEqual(['rejections']);
    const noAdmin = (await createKey(sql, { service: '*', scopes: ['read'], name: 'reader' })).key;
    const forbidden = await fetch(`${worker.url}/v1/alerts/rules/x`, { method: 'DELETE', headers: { authorization: `Bearer ${noAdmin}` } });
    expect(forbidden.status).toBe(403);
  }, 60_000);

  it('loses and repeats nothing when Postgres restarts in the middle of an evaluation', async () => {
    const hook = { name: 'hook', kind: 'webhook', url: receivers.url('/webhook'), secret: SECRET };
    const rules = Array.from({ length: 8 }, (_, i) => ({
      name: `restart-${i + 1}`,
      kind: 'log_threshold',
      filter: { service: `venue-${i + 1}`, event_type: 'venue_timeout' },
      window: '5m',
      thresholds: { critical: 1 },
      groupInterval: '0m',
      contactPoints: ['hook'],
    }));
    await applyAlertingFile(sql, { contactPoints: [hook], rules }, 'test');
    const timeouts = rules.flatMap((_, i) => errors(`venue-${i + 1}`, 2, t(10)).map((r) => ({ ...r, event_type: 'venue_timeout' })));
    await insertBatch(sql, timeouts, []);
    // The Worker's every-minute cron (wrangler's test endpoint), at a scheduled time we choose.
    const cron = (m: number) =>
      fetch(`${worker.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(SCHEDULES.alerts)}&time=${t(m).getTime() + 15_000}`);
    const probe = createSql(db.url, { max: 1 });
    const evaluation = async (m: number) =>
      (await sql`SELECT status, rules, notifications FROM logging.alert_evaluations WHERE minute = ${t(m)}`)[0];

    // Hold restart-4's row, so that the evaluation stops inside its transaction with restart-1…3
    // committed (rules run in name order), then restart Postgres under it.
    const locker = createSql(db.url, { max: 1 });
    let unlock!: () => void;
    const holding = locker
      .begin(async (tx) => {
        await tx`SELECT 1 FROM logging.alert_rules WHERE name = 'restart-4' FOR UPDATE`;
        await new Promise<void>((resolve) => (unlock = resolve));
      })
      .catch((error: Error) => error);
    await expect.poll(() => unlock, { timeout: 10_000 }).toBeDefined();
    const interrupted = cron(11).catch((error: Error) => error);
    const waiting = async () => (await probe`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)[0]!.n;
    await expect.poll(waiting, { timeout: 20_000 }).toBe(1);
    const committed =
      await probe`SELECT name FROM logging.alert_rules WHERE name LIKE 'restart-%' AND evaluated_at = ${t(11)} ORDER BY name`;
    expect(committed.map((r) => r.name)).toEqual(['restart-1', 'restart-2', 'restart-3']);
    await probe.end({ timeout: 1 });
    await db.restart!();
    expect(await holding).toBeInstanceOf(Error); // the restart ended the locking session
    await locker.end({ timeout: 1 });
    await interrupted;

    // What committed before the restart survived it, its notifications still in the outbox.
    const pending = await sql`SELECT rule FROM logging.alert_notifications WHERE rule LIKE 'restart-%' AND status = 'pending'`;
    expect(pending.map((r) => r.rule).sort()).toEqual(['restart-1', 'restart-2', 'restart-3']);
    expect(await evaluation(11)).toBeUndefined(); // the run did not finish its minute

    // The next minute's run (once the dead run's lease expired) evaluates the rest and publishes everything.
    await expect
      .poll(
        async () => {
          await cron(12);
          return evaluation(12);
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toMatchObject({ status: 'ok', notifications: 5 });
    await qstash.idle();
    // The window passes the errors: every rule resolves.
    await cron(16);
    expect(await evaluation(16)).toMatchObject({ status: 'ok', notifications: 8 });
    await qstash.idle();

    const got = receivers
      .acknowledged('/webhook')
      .map((h) => ({ id: h.key, body: h.body as { rule?: { name: string }; status: string } }))
      .filter((h) => h.body.rule?.name.startsWith('restart-'));
    expect(new Set(got.map((h) => h.id)).size).toBe(got.length);
    for (const r of rules) {
      expect(got.filter((h) => h.body.rule!.name === r.name).map((h) => h.body.status)).toEqual(['firing', 'resolved']);
    }
    const ledger = (await listNotifications(sql, { limit: 200 })).filter((n) => n.rule?.startsWith('restart-'));
    expect(ledger).toHaveLength(16);
    expect(ledger.every((n) => n.status === 'delivered' && n.attempts === 3)).toBe(true);
    // The database going away is not the rules' fault: no rule went to its Error state.
    expect(await sql`SELECT rule FROM logging.alert_history WHERE rule LIKE 'restart-%' AND to_state = 'error'`).toEqual([]);
  }, 120_000);
});
