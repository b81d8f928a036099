import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { correlationMiddleware } from '../shared/logging';
import { onError, onNotFound } from './middleware/errors';
import { services } from './middleware/services';
import { registerHealth } from './routes/health';
import { registerIngest } from './routes/ingest';
import { registerReplay } from './routes/replay';
import type { AppEnv } from './types';

/** The API: shared middleware, the error handler, and every route. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(services());
  app.use(correlationMiddleware());
  app.onError(onError);
  app.notFound(onNotFound);
  registerHealth(app);
  registerIngest(app);
  registerReplay(app);
  return app;
}
