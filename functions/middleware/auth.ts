import { createMiddleware } from 'hono/factory';
import { ApiError } from '../../shared/errors';
import { findKey, type Scope } from '../../shared/db/keys';
import type { AppEnv } from '../types';

/**
 * Requires `Authorization: Bearer <key>` naming an active key with the given scope, and puts the
 * key on the context as `apiKey`.
 *
 * @example
 * app.post('/v1/ingest', requireKey('ingest'), handler)
 */
export function requireKey(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ApiError('UNAUTHORIZED', 'missing API key: send "Authorization: Bearer <key>"');
    }
    const key = await findKey(c.get('sql'), match[1]!);
    if (!key) throw new ApiError('UNAUTHORIZED', 'invalid or revoked API key');
    if (!key.scopes.includes(scope)) {
      throw new ApiError('FORBIDDEN', `this API key lacks the "${scope}" scope`);
    }
    c.set('apiKey', key);
    await next();
  });
}
