import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../../shared/api';
import { isTransientDbError } from '../../shared/db/transient';
import { audit } from '../../shared/audit';
import { claimExpiryAudit, findKeyByHash, sha256Hex, touchKey, type ApiKey, type Scope } from '../../shared/db/api-keys';
import type { AppEnv } from '../types';

export interface RequireKeyOptions {
  /**
   * How long a verified key is trusted without asking the database again, per isolate. A revoked
   * key stops working within this time. Unknown keys are never cached. Default: 30 s.
   */
  cacheTtlMs?: number;
  /**
   * While the database is unreachable, a key verified within this time is still accepted, so
   * batches keep flowing to the replay queue during an outage. Default: 1 h.
   */
  staleIfErrorMs?: number;
}

const verified = new Map<string, { key: ApiKey; expires: number; verifiedAt: number }>();
const MAX_CACHED_KEYS = 1000;

/**
 * Requires `Authorization: Bearer <key>` naming an active key with the given scope, and puts the
 * key on the context as `apiKey`.
 *
 * @example
 * app.post('/v1/ingest', requireKey('ingest'), handler)
 */
export function requireKey(scope: Scope, { cacheTtlMs = 30_000, staleIfErrorMs = 3_600_000 }: RequireKeyOptions = {}) {
  return createMiddleware<AppEnv>(async function requireKey(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ApiError('UNAUTHORIZED', 'missing API key: send "Authorization: Bearer <key>"');
    }
    const hash = await sha256Hex(match[1]!);
    const now = Date.now();
    let key = verified.get(hash);
    if (!key || key.expires <= now) {
      let found: ApiKey | null;
      try {
        found = await findKeyByHash(c.get('sql'), hash);
      } catch (error) {
        if (key && isTransientDbError(error) && now - key.verifiedAt < staleIfErrorMs) found = key.key;
        else throw error;
      }
      if (!found) {
        verified.delete(hash);
        throw new ApiError('UNAUTHORIZED', 'invalid or revoked API key');
      }
      if (verified.size >= MAX_CACHED_KEYS) verified.clear();
      const fresh = found !== key?.key;
      key = { key: found, expires: now + cacheTtlMs, verifiedAt: fresh ? now : key!.verifiedAt };
      verified.set(hash, key);
      // Last use, to within the cache period: one write per key and isolate per period, after the response.
      if (fresh)
        c.get('defer')(
          touchKey(c.get('sql'), found.id).catch((error: unknown) =>
            c.get('logger')?.warning("could not note an API key's last use", { key_id: found.id, error: String(error) }),
          ),
        );
    }
    // Checked on every request, cached or not, and through an outage: an expired key never works.
    if (key.key.expires_at && Date.parse(key.key.expires_at) <= now) {
      await auditExpiry(c, key.key);
      throw new ApiError(
        'UNAUTHORIZED',
        `this API key expired at ${key.key.expires_at}; rotate it (npm run keys -- rotate) or create a new one`,
      );
    }
    if (!key.key.scopes.includes(scope)) {
      throw new ApiError('FORBIDDEN', `this API key lacks the "${scope}" scope`);
    }
    c.set('apiKey', key.key);
    await next();
  });
}

/**
 * The audit record of a key's expiry, written by the first request (of any isolate or host) that
 * finds it expired. Best effort: a failure is logged, and the request gets its 401 either way.
 */
const expiryAudited = new Set<string>();

async function auditExpiry(c: Context<AppEnv>, key: ApiKey): Promise<void> {
  if (expiryAudited.has(key.id)) return;
  try {
    if (expiryAudited.size >= MAX_CACHED_KEYS) expiryAudited.clear();
    expiryAudited.add(key.id);
    if (await claimExpiryAudit(c.get('sql'), key.id))
      await audit(c.get('sql'), { actor: 'service', action: 'key.expired', target: key.id, details: { expired_at: key.expires_at } });
  } catch (error) {
    c.get('logger')?.warning("could not audit an API key's expiry", { key_id: key.id, error: String(error) });
  }
}
