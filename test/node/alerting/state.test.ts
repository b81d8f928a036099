import { describe, expect, it } from 'vitest';
import { classify, notificationDue, step, type InstanceState, type Observation } from '../../../shared/alerting';
import { groupIntervalElapsed, NORMAL, type Timing } from '../../../shared/alerting/state';

const T0 = Date.parse('2026-12-07T14:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000);
const timing: Timing = { forMs: 2 * 60_000, keepFiringForMs: 2 * 60_000, noData: 'ok', onError: 'error' };
const breach = (value = 10): Observation => ({ kind: 'value', severity: 'critical', value, threshold: 5 });
const clear = (value = 1): Observation => ({ kind: 'value', severity: null, value, threshold: 5 });

function run(observations: Observation[], t: Timing = timing): InstanceState[] {
  let s: InstanceState = { ...NORMAL, since: at(0) };
  return observations.map((o, i) => (s = step(s, o, at(i), t)));
}

describe('the alert state machine', () => {
  it('goes Normal → Pending for `for`, then Firing → Recovering for `keepFiringFor`, then Normal', () => {
    const states = run([breach(), breach(), breach(), clear(), clear(), clear()]).map((s) => s.state);
    expect(states).toEqual(['pending', 'pending', 'firing', 'recovering', 'recovering', 'normal']);
  });

  it('keeps the episode start across Pending and Firing, and goes back to Firing from Recovering', () => {
    const s = run([breach(), breach(), breach(), clear(), breach()]);
    expect(s[4]!.state).toBe('firing');
    expect(s[4]!.activeSince).toEqual(at(0));
  });

  it('drops a Pending instance that clears before `for` without ever firing', () => {
    expect(run([breach(), clear()]).map((s) => s.state)).toEqual(['pending', 'normal']);
  });

  it('fires at once with for 0 and resolves at once with keepFiringFor 0', () => {
    const t = { ...timing, forMs: 0, keepFiringForMs: 0 };
    expect(run([breach(), clear()], t).map((s) => s.state)).toEqual(['firing', 'normal']);
  });

  it('resolves a group gone from the results for two evaluations, not one', () => {
    const t = { ...timing, forMs: 0, keepFiringForMs: 0 };
    const states = run([breach(), { kind: 'missing' }, { kind: 'missing' }], t).map((s) => s.state);
    expect(states).toEqual(['firing', 'firing', 'normal']);
  });

  it('handles NoData and Error as the rule says', () => {
    expect(run([{ kind: 'nodata' }], { ...timing, noData: 'nodata' })[0]!.state).toBe('nodata');
    expect(run([{ kind: 'nodata' }], { ...timing, noData: 'ok' })[0]!.state).toBe('normal');
    expect(run([{ kind: 'nodata' }], { ...timing, noData: 'alerting', forMs: 0 })[0]!.state).toBe('firing');
    expect(run([{ kind: 'error', message: 'x' }])[0]!.state).toBe('error');
    const kept = run([breach(), breach(), breach(), { kind: 'error', message: 'db down' }], { ...timing, onError: 'keep' });
    expect(kept[3]!.state).toBe('firing');
  });
});

describe('thresholds with hysteresis', () => {
  const th = { warning: 100, critical: 200, warningRecovery: 80, criticalRecovery: 150 };
  it('classifies against warning and critical', () => {
    expect(classify(50, th, 'above', null).severity).toBeNull();
    expect(classify(120, th, 'above', null).severity).toBe('warning');
    expect(classify(250, th, 'above', null).severity).toBe('critical');
    expect(classify(5, { warning: 10 }, 'below', null).severity).toBe('warning');
  });
  it('keeps an active severity until the value is back past its recovery threshold', () => {
    expect(classify(170, th, 'above', 'critical').severity).toBe('critical');
    expect(classify(140, th, 'above', 'critical').severity).toBe('warning');
    expect(classify(90, th, 'above', 'warning').severity).toBe('warning');
    expect(classify(70, th, 'above', 'warning').severity).toBeNull();
  });
});

describe('when to notify', () => {
  const firing: InstanceState = { ...NORMAL, state: 'firing', severity: 'critical', since: at(0), activeSince: at(0) };
  it('notifies a new firing, a severity change, a resolution of what was notified, and repeats', () => {
    const never = { status: null, severity: null, at: null };
    expect(notificationDue(firing, never, at(0), 3_600_000)).toBe('firing');
    expect(notificationDue(firing, { status: 'firing', severity: 'warning', at: at(0) }, at(1), 3_600_000)).toBe('firing');
    expect(notificationDue(firing, { status: 'firing', severity: 'critical', at: at(0) }, at(1), 3_600_000)).toBeNull();
    expect(notificationDue(firing, { status: 'firing', severity: 'critical', at: at(0) }, at(60), 3_600_000)).toBe('firing');
    expect(notificationDue({ ...NORMAL }, { status: 'firing', severity: 'critical', at: at(0) }, at(5), 3_600_000)).toBe('resolved');
    expect(notificationDue({ ...NORMAL }, never, at(5), 3_600_000)).toBeNull();
  });
  it('holds a rule to one notification per group interval', () => {
    expect(groupIntervalElapsed(null, at(0), 300_000)).toBe(true);
    expect(groupIntervalElapsed(at(0), at(4), 300_000)).toBe(false);
    expect(groupIntervalElapsed(at(0), at(5), 300_000)).toBe(true);
  });
});
