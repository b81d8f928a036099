import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { ApiError, toRecordIssues } from '../shared/api';
import { correlationMiddleware } from '../shared/logging';
import { onError, onNotFound } from './middleware/errors';
import { services } from './middleware/services';
import { registerAlertConfig } from './routes/alerts/config';
import { registerAlertDelivery } from './routes/alerts/deliver';
import { registerAlertRules } from './routes/alerts/rules';
import { registerAlertStatus } from './routes/alerts/status';
import { registerDashboard } from './routes/dashboard';
import { registerHealth } from './routes/health';
import { registerIngest } from './routes/ingest';
import { registerKeys } from './routes/keys';
import { registerLogs } from './routes/logs';
import { registerMetrics } from './routes/metrics';
import { registerOtlp } from './routes/otlp';
import { registerReplay } from './routes/replay';
import { registerStats } from './routes/stats';
import { registerTail } from './routes/tail';
import { registerTraces } from './routes/traces';
import type { AppDeps, AppEnv } from './types';
import { cors } from 'hono/cors';
import { securityHeaders } from './middleware/security';

/**
 * The API on any host: shared middleware, the error handler, every route and the OpenAPI
 * document. The host passes what it provides (settings, database, defer); see functions/worker.ts.
 *
 * @example
 * const app = createApp({ settings, database: { acquire: () => pool, release: async () => {} }, defer: (_c, p) => track(p) });
 */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    // zod failures of query, path and body schemas: the one error envelope, saying which and why.
    defaultHook: (result) => {
      if (!result.success) throw new ApiError('BAD_REQUEST', 'invalid request parameters', { issues: toRecordIssues(result.error) });
    },
  });
  app.use(requestId());
  app.use(securityHeaders());
  if (deps.settings.CORS_ALLOWED_ORIGINS.length) app.use(cors({ origin: deps.settings.CORS_ALLOWED_ORIGINS, maxAge: 600 }));
  app.use(services(deps));
  app.use(correlationMiddleware());
  app.onError(onError);
  app.notFound(onNotFound);
  registerHealth(app);
  registerIngest(app);
  registerOtlp(app);
  registerReplay(app);
  registerLogs(app);
  registerTraces(app);
  registerStats(app);
  registerTail(app);
  registerAlertRules(app);
  registerAlertConfig(app);
  registerAlertStatus(app);
  registerAlertDelivery(app);
  registerKeys(app);
  registerMetrics(app);
  registerDashboard(app);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'Trading log ingest', version: '1' } });
  return app;
}
