import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, databaseUnavailable, type ErrorBody } from '../../shared/api';
import { isTransientDbError } from '../../shared/db/transient';
import type { AppEnv } from '../types';

/** The one error envelope, with Retry-After when the error names it. */
export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  const body: ErrorBody = { code: error.code, message: error.message, requestId: c.get('requestId') };
  if (error.options.issues) body.issues = error.options.issues;
  const headers: Record<string, string> = { ...error.options.headers };
  if (error.options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.options.retryAfterSeconds);
  return c.json(body, error.status, headers);
}

/** Maps every error to the `{ code, message, requestId }` envelope; internals never leave. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof ApiError) return errorResponse(c, error);
  if (error instanceof HTTPException && error.status < 500) {
    return errorResponse(c, new ApiError('BAD_REQUEST', error.message || 'bad request'));
  }
  const logger = c.get('logger');
  if (isTransientDbError(error)) {
    logger?.error('database unavailable', { error: error.message, path: c.req.path });
    return errorResponse(c, databaseUnavailable());
  }
  if (logger) logger.exception(error, 'unhandled error', { path: c.req.path });
  else
    console.error(
      JSON.stringify({ level: 'ERROR', requestId: c.get('requestId'), event: 'unhandled_error', error: String(error), stack: error.stack }),
    );
  return errorResponse(c, new ApiError('INTERNAL', 'internal error'));
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new ApiError('NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
