/** The seed's log levels, in order. Shared by the wire schema and the logging library (no dependencies). */
export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];
