/**
 * Access limits per API key: records and requests per second (token buckets) and records per UTC
 * day, kept in Postgres (logging.charge_key), the one store every Worker isolate and host instance
 * shares; and, per isolate, the refusals already known, so that a flood is refused before its
 * body is read.
 */
import type { ApiKey } from '../db/api-keys';
import type { Settings } from '../env';

export { chargeKey, type ChargeInput, type ChargeResult } from './sql';

export interface KeyRates {
  recordsPerSecond: number;
  recordBurst: number;
  requestsPerSecond: number;
  requestBurst: number;
  dailyQuota: number | null;
}

/**
 * A key's rates: its own, else the settings'. A burst is RATE_LIMIT_BURST_SECONDS of the rate,
 * and never fewer records than the largest request may carry (else such a request could never pass).
 */
export function ratesOf(key: ApiKey, settings: Settings): KeyRates {
  const recordsPerSecond = key.rate_records_per_second ?? settings.RATE_LIMIT_RECORDS_PER_SECOND;
  const requestsPerSecond = key.rate_requests_per_second ?? settings.RATE_LIMIT_REQUESTS_PER_SECOND;
  const largest = Math.max(settings.MAX_RECORDS_PER_REQUEST, settings.OTLP_MAX_RECORDS_PER_REQUEST);
  return {
    recordsPerSecond,
    recordBurst: Math.max(largest, recordsPerSecond * settings.RATE_LIMIT_BURST_SECONDS),
    requestsPerSecond,
    requestBurst: Math.max(1, requestsPerSecond * settings.RATE_LIMIT_BURST_SECONDS),
    dailyQuota: key.daily_quota,
  };
}

/**
 * Refusals known in this isolate: a key refused until a time is refused again, without asking the
 * database or reading the body, until then. Bounded; the oldest entries go first.
 */
export class RefusalCache {
  private readonly until = new Map<string, { at: number; reason: 'requests' | 'records' | 'quota' }>();

  constructor(private readonly max = 10_000) {}

  get(keyId: string, now: number): { retryAfterMs: number; reason: 'requests' | 'records' | 'quota' } | undefined {
    const hit = this.until.get(keyId);
    if (!hit) return undefined;
    if (hit.at <= now) {
      this.until.delete(keyId);
      return undefined;
    }
    return { retryAfterMs: hit.at - now, reason: hit.reason };
  }

  set(keyId: string, at: number, reason: 'requests' | 'records' | 'quota'): void {
    if (this.until.size >= this.max) this.until.delete(this.until.keys().next().value!);
    this.until.set(keyId, { at, reason });
  }
}
