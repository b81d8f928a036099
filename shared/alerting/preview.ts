/**
 * A rule run over the past without saving anything: when it would have fired and resolved. The
 * state machine steps every `stepMinutes` (at most 360 evaluations), so `for` and
 * `keepFiringFor` count in those steps.
 */
import type { Sql } from '../db/client';
import { observe } from './observe';
import { durationSeconds, type Rule } from './rules';
import { isActive, NORMAL, step, type AlertState, type InstanceState, type Severity } from './state';

export interface PreviewTransition {
  minute: string;
  group: string;
  from: AlertState;
  to: AlertState;
  severity: Severity | null;
  value: number | null;
}

export const MAX_PREVIEW_EVALUATIONS = 360;

export async function previewRule(
  sql: Sql,
  rule: Rule,
  to: Date,
  hours: number,
): Promise<{ stepMinutes: number; evaluations: number; transitions: PreviewTransition[] }> {
  const end = Math.floor(to.getTime() / 60_000) * 60_000;
  const total = hours * 60;
  const stepMinutes = Math.max(1, Math.ceil(total / MAX_PREVIEW_EVALUATIONS));
  const timing = {
    forMs: durationSeconds(rule.for) * 1000,
    keepFiringForMs: durationSeconds(rule.keepFiringFor) * 1000,
    noData: rule.noData,
    onError: rule.onError,
  };
  const states = new Map<string, InstanceState>();
  const transitions: PreviewTransition[] = [];
  let evaluations = 0;
  for (let m = end - total * 60_000; m <= end; m += stepMinutes * 60_000) {
    const minute = new Date(m);
    const severityOf = (k: string) => {
      const s = states.get(k);
      return s && (isActive(s) || s.state === 'pending') ? s.severity : null;
    };
    const observed = await observe(sql, rule, minute, severityOf, []);
    evaluations++;
    for (const key of new Set([...states.keys(), ...observed.keys()])) {
      const prev = states.get(key) ?? { ...NORMAL, since: minute };
      const next = step(prev, observed.get(key)?.obs ?? { kind: 'missing' }, minute, timing);
      if (next.state !== prev.state)
        transitions.push({
          minute: minute.toISOString(),
          group: key,
          from: prev.state,
          to: next.state,
          severity: next.severity,
          value: next.value,
        });
      states.set(key, next);
    }
  }
  return { stepMinutes, evaluations, transitions };
}
