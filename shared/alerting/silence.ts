/** Whether an instance's notifications are held back: by a silence or a mute timing. Pure. */
import { inInterval } from './clock';
import type { Matcher, MuteTiming, Silence } from './schema';

export function matches(matchers: readonly Matcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => {
    const v = labels[m.label] ?? '';
    switch (m.op) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return new RegExp(`^(?:${m.value})$`).test(v);
      default:
        return !new RegExp(`^(?:${m.value})$`).test(v);
    }
  });
}

/** The silence that covers these labels at `at`, if any. */
export function silencedBy(silences: readonly Silence[], labels: Record<string, string>, at: Date): Silence | undefined {
  const t = at.getTime();
  return silences.find((s) => Date.parse(s.startsAt) <= t && t < Date.parse(s.endsAt) && matches(s.matchers, labels));
}

/** Whether one of the named mute timings is in effect at `at`. */
export function muted(timings: ReadonlyMap<string, MuteTiming>, names: readonly string[], at: Date): boolean {
  return names.some((n) => {
    const m = timings.get(n);
    return !!m && m.intervals.some((i) => inInterval(at, m.timezone, i));
  });
}
