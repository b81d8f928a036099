/** Local wall-clock time in a time zone, for trading-hours schedules and mute timings. */

/** Minutes since local midnight and ISO weekday (1 = Monday) of `at` in `timezone`. */
export function localClock(at: Date, timezone: string): { minutes: number; day: number } {
  const parts: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hourCycle: 'h23',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at))
    parts[p.type] = p.value;
  const day = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday!) + 1;
  return { minutes: Number(parts.hour) * 60 + Number(parts.minute), day };
}

/** `09:30` → 570. */
export const hhmm = (s: string): number => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** Whether `at` is inside a daily interval on one of `days`, local to `timezone`. */
export function inInterval(at: Date, timezone: string, i: { days: number[]; start: string; end: string }): boolean {
  const { minutes, day } = localClock(at, timezone);
  return i.days.includes(day) && minutes >= hhmm(i.start) && minutes < hhmm(i.end);
}
