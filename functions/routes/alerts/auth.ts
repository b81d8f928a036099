import { createMiddleware } from 'hono/factory';
import { ApiError } from '../../../shared/api';
import { requireKey } from '../../middleware/auth';
import type { AppEnv } from '../../types';

/** Changing alerting needs an `admin` key (admin keys are for every service). */
export function adminKey() {
  return requireKey('admin');
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
