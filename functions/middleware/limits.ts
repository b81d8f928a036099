import { createMiddleware } from 'hono/factory';
import { chargeKey, RefusalCache, ratesOf, type KeyRates } from '../../shared/access';
import { ApiError } from '../../shared/api';
import { isTransientDbError } from '../../shared/db/transient';
import type { AppEnv } from '../types';

export interface LimitKeyOptions {
  /** The clock the limits and the UTC day are read from. Default: Date.now. */
  now?: () => number;
}

const refusals = new RefusalCache();

/** 429 with Retry-After and the RateLimit-* headers: RATE_LIMITED, or QUOTA_EXCEEDED until the next UTC day. */
function refusal(reason: 'requests' | 'records' | 'quota', retryAfterMs: number, rates: KeyRates): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  if (reason === 'quota')
    return new ApiError(
      'QUOTA_EXCEEDED',
      `this API key's daily quota of ${rates.dailyQuota} records is used up; it resets at the next UTC midnight (in ${seconds} s)`,
      {
        retryAfterSeconds: seconds,
        headers: { 'RateLimit-Limit': String(rates.dailyQuota), 'RateLimit-Remaining': '0', 'RateLimit-Reset': String(seconds) },
      },
    );
  const [limit, burst, what] =
    reason === 'records'
      ? [rates.recordsPerSecond, rates.recordBurst, 'records']
      : [rates.requestsPerSecond, rates.requestBurst, 'requests'];
  return new ApiError('RATE_LIMITED', `this API key may send ${limit} ${what} per second (bursts of ${burst}); retry in ${seconds} s`, {
    retryAfterSeconds: seconds,
    headers: {
      'RateLimit-Limit': String(limit),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': String(seconds),
      'RateLimit-Policy': `${limit};w=1;burst=${burst};comment="${what}"`,
    },
  });
}

/**
 * Per-key limits on a write route, after requireKey. Before the body is read, a key this isolate
 * saw refused is refused again until its Retry-After (no database, no parsing: a flood costs
 * little). Once the route knows how many records it carries, `c.get('charge')(records)` charges
 * them to the key's buckets and day in Postgres, atomically, and throws the 429 when they are
 * spent. While the database cannot be reached the charge lets the request through (fail open):
 * the batch then takes the database-down path (QStash) as any other.
 *
 * @example
 * app.post('/v1/ingest', requireKey('ingest'), limitKey(), async (c) => { …; await c.get('charge')(records); … })
 */
export function limitKey({ now = Date.now }: LimitKeyOptions = {}) {
  return createMiddleware<AppEnv>(async function limitKey(c, next) {
    const key = c.get('apiKey');
    const rates = ratesOf(key, c.get('settings'));
    const known = refusals.get(key.id, now());
    if (known) throw refusal(known.reason, known.retryAfterMs, rates);
    c.set('charge', async function charge(records: number) {
      let result: Awaited<ReturnType<typeof chargeKey>>;
      try {
        result = await chargeKey(c.get('sql'), { keyId: key.id, records, now: new Date(now()), ...rates });
      } catch (error) {
        if (isTransientDbError(error)) return;
        throw error;
      }
      if (result.allowed) return;
      // A quota with records left may still take a smaller batch: only a spent one is remembered.
      if (result.reason !== 'quota' || result.usedToday >= (rates.dailyQuota ?? 0))
        refusals.set(key.id, now() + result.retryAfterMs, result.reason!);
      throw refusal(result.reason!, result.retryAfterMs, rates);
    });
    await next();
  });
}
