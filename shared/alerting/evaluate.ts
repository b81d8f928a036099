/**
 * The evaluator: once a minute, under a lease, every enabled rule is observed for the minute that
 * just ended, each (rule, group) stepped through the state machine, and the changes, their history
 * and their notifications (the outbox) committed in one transaction per rule. Then the outbox is
 * handed to QStash. A minute is evaluated once; after a gap only the current minute is evaluated
 * and the skipped ones are recorded, so stale windows are never replayed as new alerts.
 */
import type { Sql } from '../db/client';
import { acquireLease, releaseLease, renewLease, LeaseLostError, type Lease } from '../db/leases';
import { isConnectionLost } from '../db/transient';
import { alertLabels } from './labels';
import { buildNotification } from './notify';
import type { GroupObservation, Labels, Observations } from './groups';
import { observe, samplesFor } from './observe';
import { advanceRollups } from './rollup';
import { durationSeconds, type Rule } from './rules';
import type { MuteTiming, Silence } from './schema';
import { muted, silencedBy } from './silence';
import {
  appendHistory,
  deleteInstances,
  insertNotifications,
  lastEvaluatedMinute,
  listInstances,
  listMuteTimings,
  listRules,
  listSilences,
  markPublished,
  markRuleEvaluated,
  recordEvaluation,
  recordSkipped,
  saveInstances,
  unpublishedNotifications,
  type HistoryEntry,
  type OutboxRow,
  type StoredInstance,
  type StoredRule,
} from './sql';
import { groupIntervalElapsed, isActive, NORMAL, notificationDue, step, type Observation } from './state';

export interface EvaluateOptions {
  /** When the run was scheduled; the evaluated minute is the last whole minute `delaySeconds` before it. */
  now: Date;
  /** Lets late records arrive before their minute is evaluated. */
  delaySeconds: number;
  /** The service's public base URL, for links in notifications. */
  publicUrl: string;
  /** Hands outbox rows to QStash; returns the ids it took. Unset: they wait in the outbox. */
  publish?: (rows: OutboxRow[]) => Promise<string[]>;
  /** Rules not started within this many ms of the run's start wait for the next minute (a cron's CPU limit). */
  budgetMs?: number;
  /**
   * How long the run's lease lasts unless renewed (default 55 s, under the cron's minute). A run
   * that dies with the database cannot release it: the next run waits this long at most.
   */
  leaseSeconds?: number;
}

export interface EvaluationSummary {
  minute: string;
  skipped?: 'lease held' | 'already evaluated';
  rules: number;
  deferred: number;
  transitions: number;
  notifications: number;
  published: number;
  skippedMinutes: number;
  /** Minutes the rollups rolled (the last few again, and any backfill), and how long that took. */
  rolledMinutes: number;
  rollupMs: number;
  errors: { rule: string; error: string }[];
  durationMs: number;
}

export const EVALUATOR_LEASE = 'alert-evaluator';

export function evaluatedMinute(now: Date, delaySeconds: number): Date {
  return new Date(Math.floor((now.getTime() - delaySeconds * 1000) / 60_000) * 60_000);
}

interface Context {
  minute: Date;
  publicUrl: string;
  silences: Silence[];
  muteTimings: Map<string, MuteTiming>;
  lease: Lease;
}

/**
 * Runs one evaluation. Throws when the database fails (unreachable, restarting): what committed
 * before stays (each rule's state, history and outbox commit together and the rule is marked
 * evaluated for the minute), the rest is evaluated by the next run, and the outbox is published
 * then. A rule's own failure (a bad query) is that rule's Error state, not the run's.
 */
export async function runEvaluation(sql: Sql, options: EvaluateOptions): Promise<EvaluationSummary> {
  const started = Date.now();
  const minute = evaluatedMinute(options.now, options.delaySeconds);
  const summary: EvaluationSummary = {
    minute: minute.toISOString(),
    rules: 0,
    deferred: 0,
    transitions: 0,
    notifications: 0,
    published: 0,
    skippedMinutes: 0,
    rolledMinutes: 0,
    rollupMs: 0,
    errors: [],
    durationMs: 0,
  };
  const lease: Lease = { name: EVALUATOR_LEASE, holder: crypto.randomUUID(), ttlSeconds: options.leaseSeconds ?? 55 };
  if (!(await acquireLease(sql, lease))) return { ...summary, skipped: 'lease held' };
  try {
    const last = await lastEvaluatedMinute(sql);
    if (last && last.getTime() > minute.getTime()) return { ...summary, skipped: 'already evaluated' };
    if (last && minute.getTime() - last.getTime() > 60_000) summary.skippedMinutes = await recordSkipped(sql, last, minute);
    await rollUp(sql, minute, options, summary);
    await evaluateRules(
      sql,
      { minute, publicUrl: options.publicUrl, lease, silences: [], muteTimings: new Map() },
      options,
      summary,
      started,
    );
    summary.published = await publishOutbox(sql, options.publish);
    summary.durationMs = Date.now() - started;
    await recordEvaluation(sql, {
      minute,
      status: summary.errors.length ? 'error' : 'ok',
      rules: summary.rules,
      transitions: summary.transitions,
      notifications: summary.notifications,
      durationMs: summary.durationMs,
      error: summary.errors.length
        ? summary.errors
            .map((e) => `${e.rule}: ${e.error}`)
            .join('; ')
            .slice(0, 2000)
        : null,
    });
    return summary;
  } finally {
    await releaseLease(sql, lease).catch(() => {});
  }
}

async function evaluateRules(sql: Sql, ctx: Context, options: EvaluateOptions, summary: EvaluationSummary, started: number) {
  const [rules, instances, silences, timings] = await Promise.all([
    listRules(sql, true),
    listInstances(sql),
    listSilences(sql, ctx.minute),
    listMuteTimings(sql),
  ]);
  ctx.silences = silences;
  ctx.muteTimings = new Map(timings.map((t) => [t.name, t]));
  const byRule = new Map<string, StoredInstance[]>();
  for (const i of instances) byRule.set(i.rule, [...(byRule.get(i.rule) ?? []), i]);
  for (const stored of rules) {
    if (stored.evaluatedAt && stored.evaluatedAt.getTime() >= ctx.minute.getTime()) continue;
    if (options.budgetMs !== undefined && Date.now() - started > options.budgetMs) {
      summary.deferred++;
      continue;
    }
    summary.rules++;
    try {
      const r = await evaluateRule(sql, ctx, stored, byRule.get(stored.rule.name) ?? []);
      summary.transitions += r.transitions;
      summary.notifications += r.notifications;
    } catch (error) {
      if (error instanceof LeaseLostError || isConnectionLost(error)) throw error;
      summary.errors.push({ rule: stored.rule.name, error: (error as Error).message });
    }
  }
}

/**
 * Brings the rollups the anomaly and absence rules read up to this minute; a backfill takes at
 * most a quarter of the budget. When rolling fails, rules read the raw tables for what the rollups do not cover.
 */
async function rollUp(sql: Sql, minute: Date, options: EvaluateOptions, summary: EvaluationSummary) {
  const started = Date.now();
  try {
    summary.rolledMinutes = (await advanceRollups(sql, minute, options.budgetMs && options.budgetMs / 4)).minutes;
  } catch (error) {
    if (isConnectionLost(error)) throw error;
    summary.errors.push({ rule: '(rollups)', error: (error as Error).message });
  }
  summary.rollupMs = Date.now() - started;
}

/** Hands what the outbox holds to QStash (this run's rows and any a crashed run left). */
async function publishOutbox(sql: Sql, publish: EvaluateOptions['publish']): Promise<number> {
  if (!publish) return 0;
  const rows = await unpublishedNotifications(sql);
  if (rows.length === 0) return 0;
  const ids = await publish(rows);
  await markPublished(sql, ids);
  return ids.length;
}

async function observeSafely(sql: Sql, rule: Rule, ctx: Context, known: StoredInstance[]): Promise<Observations | Error> {
  const current = new Map(known.map((i) => [i.groupKey, i]));
  try {
    return await observe(
      sql,
      rule,
      ctx.minute,
      (key) => {
        const i = current.get(key);
        return i && (isActive(i) || i.state === 'pending') ? i.severity : null;
      },
      known.map((i) => i.labels as Labels),
    );
  } catch (error) {
    // The database going away is not the rule's error: the run stops and the rule keeps its state.
    if (isConnectionLost(error)) throw error;
    return error as Error;
  }
}

async function evaluateRule(sql: Sql, ctx: Context, stored: StoredRule, known: StoredInstance[]) {
  const { rule } = stored;
  const observed = await observeSafely(sql, rule, ctx, known);
  const { next, history, forget } = stepAll(rule, ctx, known, observed);
  const { outbox, notified } = await notifications(sql, rule, stored, ctx, next);
  await sql.begin(async (tx) => {
    if (!(await renewLease(tx, ctx.lease))) throw new LeaseLostError(ctx.lease.name);
    if (!(await markRuleEvaluated(tx, rule.name, ctx.minute, notified))) return;
    await saveInstances(tx, next);
    await deleteInstances(tx, rule.name, forget);
    await appendHistory(tx, history);
    await insertNotifications(tx, outbox);
  });
  return { transitions: history.length, notifications: outbox.length };
}

/** Every group's next state, the history of what changed, and the groups to forget. */
function stepAll(rule: Rule, ctx: Context, known: StoredInstance[], observed: Observations | Error) {
  const timing = {
    forMs: durationSeconds(rule.for) * 1000,
    keepFiringForMs: durationSeconds(rule.keepFiringFor) * 1000,
    noData: rule.noData,
    onError: rule.onError,
  };
  const keys = new Set([...known.map((i) => i.groupKey), ...(observed instanceof Error ? [] : observed.keys())]);
  if (observed instanceof Error && keys.size === 0) keys.add('');
  const prevByKey = new Map(known.map((i) => [i.groupKey, i]));
  const next: StoredInstance[] = [];
  const history: HistoryEntry[] = [];
  const forget: string[] = [];
  for (const key of keys) {
    const prev = prevByKey.get(key);
    const seen: GroupObservation | undefined = observed instanceof Error ? undefined : observed.get(key);
    const obs: Observation = observed instanceof Error ? { kind: 'error', message: observed.message } : (seen?.obs ?? { kind: 'missing' });
    const state = step(prev ?? { ...NORMAL, since: ctx.minute }, obs, ctx.minute, timing);
    const labels = (seen?.labels ?? prev?.labels ?? {}) as Record<string, string>;
    const changed = !prev ? state.state !== 'normal' : prev.state !== state.state || prev.severity !== state.severity;
    const instance: StoredInstance = {
      ...state,
      rule: rule.name,
      groupKey: key,
      labels,
      evaluatedAt: ctx.minute,
      notified: prev?.notified ?? null,
      notifiedSeverity: prev?.notifiedSeverity ?? null,
      notifiedAt: prev?.notifiedAt ?? null,
      samples: prev?.samples ?? [],
    };
    if (changed) history.push(historyEntry(rule, ctx, instance, prev));
    // A normal instance receivers are not waiting to hear resolved is not kept (its history is).
    if (state.state === 'normal' && instance.notified !== 'firing') {
      if (prev) forget.push(key);
      continue;
    }
    next.push(instance);
  }
  return { next, history, forget };
}

function held(rule: Rule, ctx: Context, i: StoredInstance): boolean {
  return (
    !!silencedBy(ctx.silences, alertLabels(rule, i.labels, i.severity), ctx.minute) || muted(ctx.muteTimings, rule.muteTimings, ctx.minute)
  );
}

function historyEntry(rule: Rule, ctx: Context, i: StoredInstance, prev: StoredInstance | undefined): HistoryEntry {
  return {
    rule: rule.name,
    group_key: i.groupKey,
    labels: i.labels,
    from_state: prev?.state ?? null,
    to_state: i.state,
    severity: i.severity,
    value: i.value,
    threshold: i.threshold,
    minute: ctx.minute.toISOString(),
    silenced: held(rule, ctx, i),
  };
}

/**
 * The outbox rows for this minute: the instances whose news is due (not silenced or muted),
 * all in one notification per contact point, once the group interval since the last one passed.
 * Updates what each included instance's receivers were told.
 */
async function notifications(sql: Sql, rule: Rule, stored: StoredRule, ctx: Context, instances: StoredInstance[]) {
  const repeatMs = durationSeconds(rule.repeatInterval) * 1000;
  const due = instances
    .map((i) => ({
      i,
      status: held(rule, ctx, i)
        ? null
        : notificationDue(i, { status: i.notified, severity: i.notifiedSeverity, at: i.notifiedAt }, ctx.minute, repeatMs),
    }))
    .filter((d): d is { i: StoredInstance; status: 'firing' | 'resolved' } => d.status !== null);
  if (due.length === 0 || !groupIntervalElapsed(stored.notifiedAt, ctx.minute, durationSeconds(rule.groupInterval) * 1000)) {
    return { outbox: [] as OutboxRow[], notified: false };
  }
  for (const d of due) {
    if (d.status === 'firing') d.i.samples = await samplesFor(sql, rule, d.i.labels as Labels, ctx.minute).catch(() => d.i.samples);
  }
  // Built before what receivers were told is updated: a resolution carries the severity it fired with.
  const payload = buildNotification(rule, due, ctx.minute, ctx.publicUrl);
  for (const d of due) {
    d.i.notified = d.status;
    d.i.notifiedSeverity = d.status === 'firing' ? d.i.severity : null;
    d.i.notifiedAt = ctx.minute;
  }
  const outbox = rule.contactPoints.map((cp) => ({
    id: crypto.randomUUID(),
    rule: rule.name,
    contact_point: cp,
    kind: 'alert' as const,
    payload,
  }));
  return { outbox, notified: true };
}
