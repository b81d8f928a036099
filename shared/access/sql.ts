import type { Sql } from '../db/client';

export interface ChargeInput {
  keyId: string;
  records: number;
  now: Date;
  recordsPerSecond: number;
  recordBurst: number;
  requestsPerSecond: number;
  requestBurst: number;
  dailyQuota: number | null;
}

export interface ChargeResult {
  allowed: boolean;
  /** Why it was refused: the request bucket, the record bucket, or the day's quota. */
  reason: 'requests' | 'records' | 'quota' | null;
  retryAfterMs: number;
  /** Records accepted today (UTC), this request's included when allowed. */
  usedToday: number;
}

/** Charges a request to its key (logging.charge_key in the migrations: atomic, nothing charged when refused). */
export async function chargeKey(sql: Sql, input: ChargeInput): Promise<ChargeResult> {
  const [row] = await sql<{ allowed: boolean; reason: ChargeResult['reason']; retry_after_ms: string; used_today: string }[]>`
    SELECT allowed, reason, retry_after_ms::text, used_today::text FROM logging.charge_key(
      ${input.keyId}::uuid, ${input.records}::int, ${input.now.toISOString()}::timestamptz,
      ${input.recordsPerSecond}::float8, ${input.recordBurst}::float8,
      ${input.requestsPerSecond}::float8, ${input.requestBurst}::float8, ${input.dailyQuota}::bigint)`;
  return { allowed: row!.allowed, reason: row!.reason, retryAfterMs: Number(row!.retry_after_ms), usedToday: Number(row!.used_today) };
}
