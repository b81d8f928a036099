import { sha256Hex } from '../hash';
import type { Sql } from './client';

export { sha256Hex };

/** `admin` manages alert rules, contact points and silences; admin keys are for every service ('*'). */
export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  /** One service name, or '*' for every service. */
  service: string;
  scopes: Scope[];
  /** When the key stops working (ISO), or null. */
  expires_at: string | null;
  /** Its own limits; null: the service's defaults (rates) or none (quota). */
  rate_records_per_second: number | null;
  rate_requests_per_second: number | null;
  daily_quota: number | null;
}

export interface ApiKeyInfo extends ApiKey {
  prefix: string;
  name: string | null;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  rotated_to: string | null;
  /** Records accepted today (UTC). */
  used_today: number;
}

/** A key's limits, as `keys create` and the API take them. */
export interface KeyLimits {
  rateRecordsPerSecond?: number | null;
  rateRequestsPerSecond?: number | null;
  dailyQuota?: number | null;
  /** When it expires; null or absent: never. */
  expiresAt?: Date | null;
}

const KEY_COLUMNS =
  'id, service, to_json(scopes) AS scopes, to_char(expires_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\') AS expires_at, rate_records_per_second, rate_requests_per_second, daily_quota::float8 AS daily_quota';

/** A new random key: `lk_` and 43 base64url characters (256 bits). */
export function generateKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return `lk_${b64}`;
}

/** The unrevoked key with this sha-256 (hex), expired or not (the caller says which), or null. */
export async function findKeyByHash(sql: Sql, hash: string): Promise<ApiKey | null> {
  // now() is STABLE, so Hyperdrive does not cache this read: a revocation is seen at once (then
  // within the middleware's own 30 s), not after Hyperdrive's max_age as well.
  const [row] = await sql<ApiKey[]>`
    SELECT ${sql.unsafe(KEY_COLUMNS)}, now() AS checked_at FROM logging.api_keys WHERE key_hash = ${hash} AND revoked_at IS NULL`;
  return row ?? null;
}

/** Marks a key's expiry as audited; true for the one caller that did it first. */
export async function claimExpiryAudit(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`
    UPDATE logging.api_keys SET expiry_audited_at = now() WHERE id = ${id} AND expiry_audited_at IS NULL AND expires_at <= now() RETURNING id`;
  return rows.length > 0;
}

/** Notes that a key was used now (called at most once per cache period per key and isolate). */
export async function touchKey(sql: Sql, id: string): Promise<void> {
  await sql`UPDATE logging.api_keys SET last_used_at = now() WHERE id = ${id}`;
}

/** Stores a new key and returns its plaintext, which is never stored and cannot be shown again. */
export async function createKey(
  sql: Sql,
  input: { service: string; scopes?: Scope[]; name?: string | null } & KeyLimits,
): Promise<{ id: string; key: string }> {
  const key = generateKey();
  const scopes = input.scopes ?? ['ingest'];
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO logging.api_keys (key_hash, prefix, service, scopes, name, rate_records_per_second, rate_requests_per_second, daily_quota, expires_at)
    VALUES (${await sha256Hex(key)}, ${key.slice(0, 10)}, ${input.service},
            (SELECT array_agg(s) FROM json_array_elements_text(${JSON.stringify(scopes)}::text::json) AS s), ${input.name ?? null},
            ${input.rateRecordsPerSecond ?? null}, ${input.rateRequestsPerSecond ?? null}, ${input.dailyQuota ?? null},
            ${input.expiresAt ?? null})
    RETURNING id`;
  return { id: row!.id, key };
}

/**
 * Replaces a key: a new key with its service, scopes, name and limits, while the old one stays
 * valid for `graceSeconds` more (or until its own expiry, if sooner). Null when no active key has
 * this id.
 */
export async function rotateKey(
  sql: Sql,
  id: string,
  graceSeconds: number,
): Promise<{ id: string; key: string; oldExpiresAt: Date } | null> {
  return sql.begin(async (tx) => {
    const [old] = await tx<
      { service: string; scopes: Scope[]; name: string | null; r: number | null; q: number | null; d: number | null; e: Date | null }[]
    >`
      SELECT service, to_json(scopes) AS scopes, name, rate_records_per_second AS r, rate_requests_per_second AS q, daily_quota::float8 AS d, expires_at AS e
      FROM logging.api_keys WHERE id = ${id} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE`;
    if (!old) return null;
    const created = await createKey(tx as unknown as Sql, {
      service: old.service,
      scopes: old.scopes,
      name: old.name,
      rateRecordsPerSecond: old.r,
      rateRequestsPerSecond: old.q,
      dailyQuota: old.d,
      expiresAt: old.e,
    });
    const [row] = await tx<{ expires_at: Date }[]>`
      UPDATE logging.api_keys SET rotated_to = ${created.id},
             expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(secs => ${graceSeconds}))
      WHERE id = ${id} RETURNING expires_at`;
    return { ...created, oldExpiresAt: row!.expires_at };
  });
}

export async function listKeys(sql: Sql): Promise<ApiKeyInfo[]> {
  return sql<ApiKeyInfo[]>`
    SELECT ${sql.unsafe(KEY_COLUMNS)}, prefix, name, created_at, revoked_at, last_used_at, rotated_to,
           coalesce((SELECT u.records FROM logging.key_usage u WHERE u.key_id = k.id AND u.day = (now() AT TIME ZONE 'UTC')::date), 0)::float8 AS used_today
    FROM logging.api_keys k ORDER BY created_at`;
}

/** Returns false when no active key has this id. */
export async function revokeKey(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`UPDATE logging.api_keys SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL RETURNING id`;
  return rows.length > 0;
}
