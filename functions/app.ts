import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { correlationMiddleware } from '../shared/logging';
import { onError, onNotFound } from './middleware/errors';
import { services } from './middleware/services';
import { registerHealth } from './routes/health';
import { registerIngest } from './routes/ingest';
import { registerDashboard } from './routes/dashboard';
import { registerOpenApiDocs } from './routes/openapi';
import { registerQuery } from './routes/logs';
import { registerReplay } from './routes/replay';
import { registerTail } from './routes/tail';
import { ApiError } from '../shared/api/errors';
import { toRecordIssues } from '../shared/api/wire';
import type { AppEnv } from './types';

/** The API: shared middleware, the error handler, and every route. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({
    // zod failures of query, path and body schemas: the one error envelope, saying which and why.
    defaultHook: (result) => {
      if (!result.success) throw new ApiError('BAD_REQUEST', 'invalid request parameters', { issues: toRecordIssues(result.error) });
    },
  });
  app.use(requestId());
  app.use(services());
  app.use(correlationMiddleware());
  app.onError(onError);
  app.notFound(onNotFound);
  registerHealth(app);
  registerIngest(app);
  registerReplay(app);
  registerQuery(app);
  registerTail(app);
  registerDashboard(app);
  registerOpenApiDocs(app);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'Trading log ingest', version: '1' } });
  return app;
}
