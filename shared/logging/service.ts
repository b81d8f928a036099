import type { Level } from '../api/levels.ts';

/** The seed's per-service levels (config/logging.yaml). */
export const DEFAULT_SERVICE_LEVELS: Readonly<Record<string, Level>> = {
  data_ingestion: 'INFO',
  strategy_engine: 'DEBUG',
  execution: 'INFO',
  risk_management: 'WARNING',
  analytics: 'INFO',
  notification: 'INFO',
};

const KNOWN = Object.keys(DEFAULT_SERVICE_LEVELS);

/**
 * The service a module belongs to, from a dotted module name, a file path or a URL:
 * `src.services.execution.order_manager`, `src/services/execution/order_manager.ts` and
 * `file:///app/src/services/execution/order_manager.ts` all give `execution`.
 * The segment after `services` wins; otherwise the first segment naming a known service;
 * otherwise undefined.
 */
export function detectService(moduleName: string): string | undefined {
  let path = moduleName;
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(moduleName)) path = new URL(moduleName).pathname;
  } catch {
    // not a URL after all: treat it as a path
  }
  const segments = path
    .replace(/\.[cm]?[jt]sx?$/i, '')
    .split(/[\\/.]/)
    .filter(Boolean);
  const after = segments.indexOf('services');
  if (after >= 0 && segments[after + 1]) return segments[after + 1];
  return segments.find((s) => KNOWN.includes(s));
}
