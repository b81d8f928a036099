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
}

export interface ApiKeyInfo extends ApiKey {
  prefix: string;
  name: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

/** A new random key: `lk_` and 43 base64url characters (256 bits). */
export function generateKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return `lk_${b64}`;
}

/** The active key with this sha-256 (hex), or null. */
export async function findKeyByHash(sql: Sql, hash: string): Promise<ApiKey | null> {
  const [row] = await sql<ApiKey[]>`
    SELECT id, service, to_json(scopes) AS scopes FROM logging.api_keys WHERE key_hash = ${hash} AND revoked_at IS NULL`;
  return row ?? null;
}

/** Stores a new key and returns its plaintext, which is never stored and cannot be shown again. */
export async function createKey(
  sql: Sql,
  input: { service: string; scopes?: Scope[]; name?: string | null },
): Promise<{ id: string; key: string }> {
  const key = generateKey();
  const scopes = input.scopes ?? ['ingest'];
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO logging.api_keys (key_hash, prefix, service, scopes, name)
    VALUES (${await sha256Hex(key)}, ${key.slice(0, 10)}, ${input.service},
            (SELECT array_agg(s) FROM json_array_elements_text(${JSON.stringify(scopes)}::text::json) AS s), ${input.name ?? null})
    RETURNING id`;
  return { id: row!.id, key };
}

export async function listKeys(sql: Sql): Promise<ApiKeyInfo[]> {
  return sql<ApiKeyInfo[]>`
    SELECT id, prefix, service, to_json(scopes) AS scopes, name, created_at, revoked_at FROM logging.api_keys ORDER BY created_at`;
}

/** Returns false when no active key has this id. */
export async function revokeKey(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`UPDATE logging.api_keys SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL RETURNING id`;
  return rows.length > 0;
}
