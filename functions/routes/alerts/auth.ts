import { createMiddleware } from 'hono/factory';
import { ApiError } from '../../../shared/api';
import { audit } from '../../../shared/audit';
import { requireKey } from '../../middleware/auth';
import type { AppEnv } from '../../types';

/**
 * Changing alerting needs an `admin` key (admin keys are for every service). Each change that
 * succeeds (rules, contact points, mute timings, silences, a test notification) leaves an audit
 * record: the key, the method and the path, before the answer goes out.
 */
export function adminKey() {
  const admin = requireKey('admin');
  return createMiddleware<AppEnv>(async function adminKey(c, next) {
    await admin(c, async () => {
      await next();
      if (c.req.method === 'GET' || c.res.status >= 400) return;
      try {
        await audit(c.get('sql'), {
          actor: c.get('apiKey').id,
          action: `alerting.${c.req.method.toLowerCase()}`,
          target: new URL(c.req.url).pathname,
        });
      } catch (error) {
        c.get('logger')?.error('could not write the audit record of an alerting change', {
          path: new URL(c.req.url).pathname,
          error: String(error),
        });
      }
    });
  });
}

/**
 * Reading alerting needs a `read` key for every service: rules and instances span services.
 *
 * @example
 * createRoute({ …, middleware: [allServicesReader()] as const })
 */
export function allServicesReader() {
  const read = requireKey('read');
  return createMiddleware<AppEnv>(async function allServicesReader(c, next) {
    await read(c, async () => {
      if (c.get('apiKey').service !== '*') throw new ApiError('FORBIDDEN', 'alerting is read with a key for every service ("*")');
      await next();
    });
  });
}
