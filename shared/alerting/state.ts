/**
 * The alert state machine, as pure functions (no clock, no I/O): the evaluator feeds each
 * (rule, group) its observation for one minute and stores what comes out.
 *
 *   Normal ─breach→ Pending ─held `for`→ Firing ─clear→ Recovering ─clear `keepFiringFor`→ Normal
 *                   Pending ─clear→ Normal      Recovering ─breach→ Firing
 *
 * plus NoData and Error as the rule says (`noData`, `onError`), and a group that is gone from the
 * results for two evaluations resolving (absence rules never report a group as gone).
 */

export type AlertState = 'normal' | 'pending' | 'firing' | 'recovering' | 'nodata' | 'error';
export type Severity = 'warning' | 'critical';

/** What one evaluation saw for a group. */
export type Observation =
  | { kind: 'value'; severity: Severity | null; value: number; threshold: number | null }
  | { kind: 'nodata' }
  | { kind: 'error'; message: string }
  /** The group was not in this minute's results. */
  | { kind: 'missing' };

export interface InstanceState {
  state: AlertState;
  severity: Severity | null;
  /** When the current state began. */
  since: Date;
  /** When the condition first held in this episode (Pending or Firing), for `startsAt`. */
  activeSince: Date | null;
  value: number | null;
  threshold: number | null;
  /** Consecutive evaluations the group was missing from the results. */
  missing: number;
}

export interface Timing {
  forMs: number;
  keepFiringForMs: number;
  noData: 'ok' | 'nodata' | 'alerting' | 'keep';
  onError: 'error' | 'alerting' | 'keep';
}

export const MISSING_EVALUATIONS_TO_RESOLVE = 2;

export const NORMAL: InstanceState = {
  state: 'normal',
  severity: null,
  since: new Date(0),
  activeSince: null,
  value: null,
  threshold: null,
  missing: 0,
};

/** Whether receivers consider the instance firing (Recovering is still firing: `keep_firing_for`). */
export function isActive(s: InstanceState): boolean {
  return s.state === 'firing' || s.state === 'recovering';
}

/** Turns NoData, Error and a missing group into a breach, a clear or "keep", as the rule says. */
function resolveObservation(
  prev: InstanceState,
  obs: Observation,
  t: Timing,
): Extract<Observation, { kind: 'value' }> | 'keep' | AlertState {
  if (obs.kind === 'missing') {
    return prev.missing + 1 >= MISSING_EVALUATIONS_TO_RESOLVE ? { kind: 'value', severity: null, value: 0, threshold: null } : 'keep';
  }
  if (obs.kind === 'nodata') {
    if (t.noData === 'ok') return { kind: 'value', severity: null, value: 0, threshold: null };
    if (t.noData === 'alerting') return { kind: 'value', severity: 'critical', value: Number.NaN, threshold: null };
    return t.noData === 'keep' ? 'keep' : 'nodata';
  }
  if (obs.kind === 'error') {
    if (t.onError === 'alerting') return { kind: 'value', severity: 'critical', value: Number.NaN, threshold: null };
    return t.onError === 'keep' ? 'keep' : 'error';
  }
  return obs;
}

/** The next state of one instance after the observation at `now`. */
export function step(prev: InstanceState, obs: Observation, now: Date, t: Timing): InstanceState {
  const resolved = resolveObservation(prev, obs, t);
  const missing = obs.kind === 'missing' ? prev.missing + 1 : 0;
  if (resolved === 'keep') return { ...prev, missing };
  if (typeof resolved === 'string') {
    return prev.state === resolved ? { ...prev, missing } : { ...NORMAL, state: resolved, since: now, missing };
  }
  const seen = { value: Number.isNaN(resolved.value) ? null : resolved.value, threshold: resolved.threshold, missing };
  const enter = (state: AlertState, severity: Severity | null, activeSince: Date | null): InstanceState => ({
    ...seen,
    state,
    severity,
    since: state === prev.state ? prev.since : now,
    activeSince,
  });

  if (resolved.severity) {
    const activeSince = prev.activeSince ?? now;
    if (isActive(prev)) return enter('firing', maxSeverity(prev.severity, resolved.severity, prev.state), activeSince);
    const pendingSince = prev.state === 'pending' ? prev.since : now;
    if (now.getTime() - pendingSince.getTime() >= t.forMs) return enter('firing', resolved.severity, activeSince);
    return { ...enter('pending', resolved.severity, activeSince), since: pendingSince };
  }
  if (isActive(prev)) {
    const recoveringSince = prev.state === 'recovering' ? prev.since : now;
    if (now.getTime() - recoveringSince.getTime() >= t.keepFiringForMs) return enter('normal', null, null);
    return { ...enter('recovering', prev.severity, prev.activeSince), since: recoveringSince };
  }
  return enter('normal', null, null);
}

/** Firing keeps the value's severity; Recovering → Firing keeps the higher of the two. */
function maxSeverity(prev: Severity | null, next: Severity, prevState: AlertState): Severity {
  if (prevState === 'firing') return next;
  return prev === 'critical' || next === 'critical' ? 'critical' : 'warning';
}

/**
 * The severity of a value against warning/critical thresholds, with hysteresis: an instance
 * active at a severity stays at it until the value is back past that severity's recovery
 * threshold (default: the threshold itself).
 */
export function classify(
  value: number,
  th: { warning?: number; critical?: number; warningRecovery?: number; criticalRecovery?: number },
  direction: 'above' | 'below',
  active: Severity | null,
): { severity: Severity | null; threshold: number | null } {
  const beyond = (v: number, limit: number | undefined) => limit !== undefined && (direction === 'above' ? v > limit : v < limit);
  const holds = (v: number, limit: number | undefined, recovery: number | undefined) =>
    limit !== undefined && (direction === 'above' ? v > (recovery ?? limit) : v < (recovery ?? limit));
  if (beyond(value, th.critical) || (active === 'critical' && holds(value, th.critical, th.criticalRecovery)))
    return { severity: 'critical', threshold: th.critical ?? null };
  if (beyond(value, th.warning) || (active !== null && holds(value, th.warning, th.warningRecovery)))
    return { severity: 'warning', threshold: th.warning ?? null };
  return { severity: null, threshold: th.warning ?? th.critical ?? null };
}

/** What receivers were last told about an instance. */
export interface Notified {
  status: 'firing' | 'resolved' | null;
  severity: Severity | null;
  at: Date | null;
}

/**
 * Whether an instance belongs in a notification now: its firing/resolved status or severity
 * differs from what receivers were told, or it is still firing and `repeatMs` has passed.
 * A resolution of something never notified is not news.
 */
export function notificationDue(s: InstanceState, told: Notified, now: Date, repeatMs: number): 'firing' | 'resolved' | null {
  if (isActive(s)) {
    if (told.status !== 'firing' || told.severity !== s.severity) return 'firing';
    return told.at && now.getTime() - told.at.getTime() >= repeatMs ? 'firing' : null;
  }
  return told.status === 'firing' ? 'resolved' : null;
}

/**
 * Whether a rule may notify now: the first notification goes at once, later ones wait for the
 * group interval after the previous one, so a flapping rule sends at most one per interval.
 */
export function groupIntervalElapsed(lastNotifiedAt: Date | null, now: Date, groupIntervalMs: number): boolean {
  return !lastNotifiedAt || now.getTime() - lastNotifiedAt.getTime() >= groupIntervalMs;
}
