/** Milliseconds in a (UTC) day. */
export const DAY_MS = 86_400_000;

/** The UTC day of a time, as YYYY-MM-DD. */
export function isoDay(time: Date | number): string {
  return new Date(time).toISOString().slice(0, 10);
}
