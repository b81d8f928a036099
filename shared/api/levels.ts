/**
 * The seed's log levels, in order, and how a level is named on the wire: shared by the wire schema
 * and the logging library (no dependencies).
 */
export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

/** Numeric order of the levels: a record is kept when its value is ≥ the threshold's. */
export const LEVEL_VALUE: Readonly<Record<Level, number>> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

const ALIASES: Readonly<Record<string, Level>> = { WARN: 'WARNING' };

/** `info`, `Warning`, `warn` → the canonical level; undefined for anything else. */
export function parseLevel(value: string | undefined | null): Level | undefined {
  if (!value) return undefined;
  const upper = value.trim().toUpperCase();
  const level = ALIASES[upper] ?? upper;
  return (LEVELS as readonly string[]).includes(level) ? (level as Level) : undefined;
}
