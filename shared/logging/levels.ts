import { LEVELS, type Level } from '../api/levels.ts';

export { LEVELS, type Level };

/** Numeric order of the levels: a record is kept when its value is ≥ the logger's. */
export const LEVEL_VALUE: Readonly<Record<Level, number>> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

/** The seed's per-service levels (config/logging.yaml). */
export const DEFAULT_SERVICE_LEVELS: Readonly<Record<string, Level>> = {
  data_ingestion: 'INFO',
  strategy_engine: 'DEBUG',
  execution: 'INFO',
  risk_management: 'WARNING',
  analytics: 'INFO',
  notification: 'INFO',
};

/** `info`, `Warning`, `warn` → the canonical level; undefined for anything else. */
export function parseLevel(value: string | undefined | null): Level | undefined {
  if (!value) return undefined;
  const upper = value.trim().toUpperCase();
  if (upper === 'WARN') return 'WARNING';
  return (LEVELS as readonly string[]).includes(upper) ? (upper as Level) : undefined;
}
