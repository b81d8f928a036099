/** Alerting's tables: rules, contact points, mute timings, silences, instances, history, the outbox, evaluations. */
import type { z } from 'zod';
import type { Sql, TransactionSql } from '../db/client';
import type {
  ContactPoint,
  ContactPointSummary,
  DeliveryStatusSchema,
  EvaluationRunSchema,
  HistoryEntrySchema,
  HistoryRecordSchema,
  LedgerEntrySchema,
  Matcher,
  MuteTiming,
  OutboxRowSchema,
  Silence,
  StoredInstanceSchema,
  StoredRuleSchema,
} from './schema';
import type { Rule } from './rules';
import type { AlertState, Severity } from './state';

type Db = Sql | TransactionSql;
const json = (v: unknown) => JSON.stringify(v);

export type StoredRule = z.infer<typeof StoredRuleSchema>;

export async function upsertRule(sql: Db, rule: Rule, by: string): Promise<void> {
  await sql`
    INSERT INTO logging.alert_rules (name, spec, enabled, updated_by) VALUES (${rule.name}, ${json(rule)}::text::jsonb, ${rule.enabled}, ${by})
    ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, enabled = EXCLUDED.enabled, updated_by = EXCLUDED.updated_by, updated_at = now()`;
}

export async function listRules(sql: Db, onlyEnabled = false): Promise<StoredRule[]> {
  const rows = await sql<
    { spec: Rule; updated_at: Date; updated_by: string | null; notified_at: Date | null; evaluated_at: Date | null }[]
  >`
    SELECT spec, updated_at, updated_by, notified_at, evaluated_at FROM logging.alert_rules
    ${onlyEnabled ? sql`WHERE enabled` : sql``} ORDER BY name`;
  return rows.map((r) => ({
    rule: r.spec,
    updatedAt: r.updated_at.toISOString(),
    updatedBy: r.updated_by,
    notifiedAt: r.notified_at,
    evaluatedAt: r.evaluated_at,
  }));
}

export async function deleteRule(sql: Db, name: string): Promise<boolean> {
  return (await sql`DELETE FROM logging.alert_rules WHERE name = ${name} RETURNING 1`).length > 0;
}

/** Marks the rule evaluated for `minute` (and notified, when it sent), only if no one did first. */
export async function markRuleEvaluated(tx: TransactionSql, name: string, minute: Date, notified: boolean): Promise<boolean> {
  const rows = await tx`
    UPDATE logging.alert_rules SET evaluated_at = ${minute} ${notified ? tx`, notified_at = ${minute}` : tx``}
    WHERE name = ${name} AND (evaluated_at IS NULL OR evaluated_at < ${minute}) RETURNING 1`;
  return rows.length === 1;
}

export async function upsertContactPoint(sql: Db, cp: ContactPoint): Promise<void> {
  const secret = cp.kind === 'webhook' ? cp.secret : cp.kind === 'pagerduty' ? cp.routingKey : null;
  await sql`
    INSERT INTO logging.alert_contact_points (name, kind, url, secret) VALUES (${cp.name}, ${cp.kind}, ${cp.url}, ${secret})
    ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, url = EXCLUDED.url, secret = EXCLUDED.secret, updated_at = now()`;
}

/** Contact points without their secrets. */
export async function listContactPoints(sql: Db): Promise<ContactPointSummary[]> {
  return sql`SELECT name, kind, url FROM logging.alert_contact_points ORDER BY name`;
}

/** One contact point with its secret, for delivery. */
export async function getContactPoint(sql: Db, name: string): Promise<ContactPoint | null> {
  const [r] = await sql<{ name: string; kind: ContactPoint['kind']; url: string; secret: string | null }[]>`
    SELECT name, kind, url, secret FROM logging.alert_contact_points WHERE name = ${name}`;
  if (!r) return null;
  if (r.kind === 'webhook') return { name: r.name, kind: r.kind, url: r.url, secret: r.secret ?? '' };
  if (r.kind === 'pagerduty') return { name: r.name, kind: r.kind, url: r.url, routingKey: r.secret ?? '' };
  return { name: r.name, kind: r.kind, url: r.url };
}

export async function deleteContactPoint(sql: Db, name: string): Promise<boolean> {
  return (await sql`DELETE FROM logging.alert_contact_points WHERE name = ${name} RETURNING 1`).length > 0;
}

export async function upsertMuteTiming(sql: Db, m: MuteTiming): Promise<void> {
  await sql`
    INSERT INTO logging.alert_mute_timings (name, spec) VALUES (${m.name}, ${json(m)}::text::jsonb)
    ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, updated_at = now()`;
}

export async function listMuteTimings(sql: Db): Promise<MuteTiming[]> {
  return (await sql<{ spec: MuteTiming }[]>`SELECT spec FROM logging.alert_mute_timings ORDER BY name`).map((r) => r.spec);
}

export async function deleteMuteTiming(sql: Db, name: string): Promise<boolean> {
  return (await sql`DELETE FROM logging.alert_mute_timings WHERE name = ${name} RETURNING 1`).length > 0;
}

/** Names that exist, of those asked for. */
export async function existingNames(sql: Db, table: 'contact_points' | 'mute_timings', names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const t = table === 'contact_points' ? sql`logging.alert_contact_points` : sql`logging.alert_mute_timings`;
  const rows = await sql<{ name: string }[]>`SELECT name FROM ${t} WHERE name IN ${sql(names)}`;
  return new Set(rows.map((r) => r.name));
}

const silenceCols = (sql: Db) =>
  sql`id::text, matchers, to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "startsAt",
      to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "endsAt", comment, created_by AS "createdBy"`;

export async function createSilence(
  sql: Db,
  s: { matchers: Matcher[]; startsAt: Date; endsAt: Date; comment: string; createdBy: string },
): Promise<Silence> {
  const [row] = await sql<Silence[]>`
    INSERT INTO logging.alert_silences (matchers, starts_at, ends_at, comment, created_by)
    VALUES (${json(s.matchers)}::text::jsonb, ${s.startsAt}, ${s.endsAt}, ${s.comment}, ${s.createdBy}) RETURNING ${silenceCols(sql)}`;
  return row!;
}

/** Silences not yet ended at `at` (all, with `all`), newest first. */
export async function listSilences(sql: Db, at: Date, all = false): Promise<Silence[]> {
  return sql<
    Silence[]
  >`SELECT ${silenceCols(sql)} FROM logging.alert_silences ${all ? sql`` : sql`WHERE ends_at > ${at}`} ORDER BY created_at DESC LIMIT 500`;
}

/** Ends a silence now; false when there is no such silence still active. */
export async function expireSilence(sql: Db, id: string): Promise<boolean> {
  const rows =
    await sql`UPDATE logging.alert_silences SET ends_at = greatest(now(), starts_at + interval '1 millisecond') WHERE id = ${id}::uuid AND ends_at > now() RETURNING 1`;
  return rows.length > 0;
}

export type StoredInstance = z.infer<typeof StoredInstanceSchema>;

interface InstanceRow {
  rule: string;
  group_key: string;
  labels: Record<string, string>;
  state: AlertState;
  severity: Severity | null;
  since: Date;
  active_since: Date | null;
  value: number | null;
  threshold: number | null;
  missing: number;
  evaluated_at: Date;
  notified: 'firing' | 'resolved' | null;
  notified_severity: Severity | null;
  notified_at: Date | null;
  samples: string[];
}

function toInstance(r: InstanceRow): StoredInstance {
  return {
    rule: r.rule,
    groupKey: r.group_key,
    labels: r.labels,
    state: r.state,
    severity: r.severity,
    since: r.since,
    activeSince: r.active_since,
    value: r.value,
    threshold: r.threshold,
    missing: r.missing,
    evaluatedAt: r.evaluated_at,
    notified: r.notified,
    notifiedSeverity: r.notified_severity,
    notifiedAt: r.notified_at,
    samples: r.samples,
  };
}

/** Instances of the given rules (all, when omitted), optionally only those in `states`. */
export async function listInstances(sql: Db, filter: { rules?: string[]; states?: AlertState[] } = {}): Promise<StoredInstance[]> {
  const rows = await sql<InstanceRow[]>`
    SELECT * FROM logging.alert_instances WHERE true
      ${filter.rules ? sql`AND rule IN ${sql(filter.rules.length ? filter.rules : [''])}` : sql``}
      ${filter.states ? sql`AND state IN ${sql(filter.states)}` : sql``}
    ORDER BY rule, group_key`;
  return rows.map(toInstance);
}

export async function saveInstances(tx: TransactionSql, instances: StoredInstance[]): Promise<void> {
  if (instances.length === 0) return;
  const rows = instances.map((i) => ({
    rule: i.rule,
    group_key: i.groupKey,
    labels: i.labels,
    state: i.state,
    severity: i.severity,
    since: i.since.toISOString(),
    active_since: i.activeSince?.toISOString() ?? null,
    value: i.value,
    threshold: i.threshold,
    missing: i.missing,
    evaluated_at: i.evaluatedAt.toISOString(),
    notified: i.notified,
    notified_severity: i.notifiedSeverity,
    notified_at: i.notifiedAt?.toISOString() ?? null,
    samples: i.samples,
  }));
  await tx`
    INSERT INTO logging.alert_instances
    SELECT * FROM json_populate_recordset(null::logging.alert_instances, ${json(rows)}::text::json)
    ON CONFLICT (rule, group_key) DO UPDATE SET labels = EXCLUDED.labels, state = EXCLUDED.state, severity = EXCLUDED.severity,
      since = EXCLUDED.since, active_since = EXCLUDED.active_since, value = EXCLUDED.value, threshold = EXCLUDED.threshold,
      missing = EXCLUDED.missing, evaluated_at = EXCLUDED.evaluated_at, notified = EXCLUDED.notified,
      notified_severity = EXCLUDED.notified_severity, notified_at = EXCLUDED.notified_at, samples = EXCLUDED.samples`;
}

/** Instances resolved and notified long ago are forgotten (their history stays). */
export async function deleteInstances(tx: TransactionSql, rule: string, groupKeys: string[]): Promise<void> {
  if (groupKeys.length) await tx`DELETE FROM logging.alert_instances WHERE rule = ${rule} AND group_key IN ${tx(groupKeys)}`;
}

export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
export type HistoryRecord = z.infer<typeof HistoryRecordSchema>;

export async function appendHistory(tx: TransactionSql, entries: HistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx`
    INSERT INTO logging.alert_history (rule, group_key, labels, from_state, to_state, severity, value, threshold, minute, silenced)
    SELECT rule, group_key, labels, from_state, to_state, severity, value, threshold, minute, silenced
    FROM json_populate_recordset(null::logging.alert_history, ${json(entries)}::text::json)`;
}

export async function listHistory(sql: Db, filter: { rule?: string; limit: number }): Promise<HistoryRecord[]> {
  return sql<HistoryRecord[]>`
    SELECT id::int, rule, group_key, labels, from_state, to_state, severity, value, threshold,
           to_char(minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS minute, silenced
    FROM logging.alert_history ${filter.rule ? sql`WHERE rule = ${filter.rule}` : sql``}
    ORDER BY id DESC LIMIT ${filter.limit}`;
}

export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;
export type OutboxRow = z.infer<typeof OutboxRowSchema>;
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

export async function insertNotifications(tx: Db, rows: OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx`
    INSERT INTO logging.alert_notifications (id, rule, contact_point, kind, payload)
    SELECT id, rule, contact_point, kind, payload FROM json_populate_recordset(null::logging.alert_notifications, ${json(rows)}::text::json)`;
}

/** Notifications committed but not yet handed to QStash (a run that died between the two leaves some). */
export async function unpublishedNotifications(sql: Db, limit = 200): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    SELECT id::text, rule, contact_point, kind, payload FROM logging.alert_notifications
    WHERE status = 'pending' ORDER BY created_at LIMIT ${limit}`;
}

export async function markPublished(sql: Db, ids: string[]): Promise<void> {
  if (ids.length)
    await sql`UPDATE logging.alert_notifications SET status = 'published', published_at = now() WHERE id IN ${sql(ids)} AND status = 'pending'`;
}

/**
 * Claims a notification for one delivery attempt (for `leaseSeconds`), so two deliveries of the
 * same message never send at once. Returns the row, or why it cannot be sent now.
 */
export async function claimNotification(
  sql: Db,
  id: string,
  leaseSeconds: number,
): Promise<{ claimed: LedgerEntry } | { status: 'delivered' | 'failed' | 'unknown' | 'busy' }> {
  const [row] = await sql<LedgerEntry[]>`
    UPDATE logging.alert_notifications SET attempts = attempts + 1, claimed_until = now() + make_interval(secs => ${leaseSeconds})
    WHERE id = ${id}::uuid AND status IN ('pending', 'published') AND (claimed_until IS NULL OR claimed_until < now())
    RETURNING id::text, rule, contact_point, kind, payload, status, attempts, last_status, last_error, created_at, published_at, delivered_at`;
  if (row) return { claimed: row };
  const [current] = await sql<{ status: DeliveryStatus }[]>`SELECT status FROM logging.alert_notifications WHERE id = ${id}::uuid`;
  if (!current) return { status: 'unknown' };
  return { status: current.status === 'delivered' || current.status === 'failed' ? current.status : 'busy' };
}

/** Records an attempt's outcome: delivered, failed for good, or left for QStash to retry. */
export async function finishAttempt(
  sql: Db,
  id: string,
  outcome: { result: 'delivered' | 'failed' | 'retry'; httpStatus: number | null; error: string | null },
): Promise<void> {
  const status = outcome.result === 'retry' ? null : outcome.result;
  await sql`
    UPDATE logging.alert_notifications SET claimed_until = NULL, last_status = ${outcome.httpStatus}, last_error = ${outcome.error},
      status = coalesce(${status}, CASE WHEN status = 'pending' THEN 'published' ELSE status END),
      delivered_at = CASE WHEN ${status} = 'delivered' THEN now() ELSE delivered_at END
    WHERE id = ${id}::uuid AND status IN ('pending', 'published')`;
}

/** QStash gave up on the message (its failure callback): failed, unless a later attempt got through. */
export async function markFailed(sql: Db, id: string, error: string): Promise<void> {
  await sql`UPDATE logging.alert_notifications SET status = 'failed', last_error = ${error}, claimed_until = NULL
            WHERE id = ${id}::uuid AND status IN ('pending', 'published')`;
}

export async function listNotifications(
  sql: Db,
  filter: { rule?: string; status?: DeliveryStatus; limit: number },
): Promise<LedgerEntry[]> {
  return sql<LedgerEntry[]>`
    SELECT id::text, rule, contact_point, kind, payload, status, attempts, last_status, last_error, created_at, published_at, delivered_at
    FROM logging.alert_notifications WHERE true
      ${filter.rule ? sql`AND rule = ${filter.rule}` : sql``}
      ${filter.status ? sql`AND status = ${filter.status}` : sql``}
    ORDER BY created_at DESC LIMIT ${filter.limit}`;
}

export interface EvaluationRecord {
  minute: Date;
  status: 'ok' | 'error';
  rules: number;
  transitions: number;
  notifications: number;
  durationMs: number;
  error: string | null;
}

/** The last minute evaluated (ok or with errors), or null. */
export async function lastEvaluatedMinute(sql: Db): Promise<Date | null> {
  const [r] = await sql<{ minute: Date | null }[]>`SELECT max(minute) AS minute FROM logging.alert_evaluations WHERE status <> 'skipped'`;
  return r?.minute ?? null;
}

export async function recordEvaluation(sql: Db, e: EvaluationRecord): Promise<void> {
  await sql`
    INSERT INTO logging.alert_evaluations (minute, status, finished_at, rules, transitions, notifications, duration_ms, error)
    VALUES (${e.minute}, ${e.status}, now(), ${e.rules}, ${e.transitions}, ${e.notifications}, ${e.durationMs}, ${e.error})
    ON CONFLICT (minute) DO UPDATE SET status = EXCLUDED.status, finished_at = now(), rules = EXCLUDED.rules,
      transitions = alert_evaluations.transitions + EXCLUDED.transitions, notifications = alert_evaluations.notifications + EXCLUDED.notifications,
      duration_ms = EXCLUDED.duration_ms, error = EXCLUDED.error`;
}

/** Records the minutes strictly between `after` and `before` as skipped (at most a day of them); returns how many. */
export async function recordSkipped(sql: Db, after: Date, before: Date): Promise<number> {
  const rows = await sql`
    INSERT INTO logging.alert_evaluations (minute, status, finished_at)
    SELECT m, 'skipped', now() FROM generate_series(greatest(${after}::timestamptz + interval '1 minute', ${before}::timestamptz - interval '1 day'),
                                                   ${before}::timestamptz - interval '1 minute', interval '1 minute') AS m
    ON CONFLICT (minute) DO NOTHING RETURNING 1`;
  return rows.length;
}

export type EvaluationRun = z.infer<typeof EvaluationRunSchema>;

export async function recentEvaluations(sql: Db, limit: number): Promise<EvaluationRun[]> {
  return sql<EvaluationRun[]>`
    SELECT minute, status, rules, transitions, notifications, duration_ms, error FROM logging.alert_evaluations ORDER BY minute DESC LIMIT ${limit}`;
}
