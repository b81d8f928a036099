import { cache, css, docsScript, js, revalidate, swaggerScript, swaggerStyle } from '../dashboard/assets';
import { docsHtml } from '../dashboard/page';
import type { App } from '../types';

/** GET /docs: Swagger UI on /openapi.json, its files served by the Worker itself (works offline). */
export function registerDocs(app: App) {
  app.get('/docs', (c) => c.html(docsHtml));
  app.get('/assets/docs.js', (c) => c.body(docsScript, 200, { ...js, ...revalidate }));
  app.get('/assets/swagger-ui-bundle.js', (c) => c.body(swaggerScript, 200, { ...js, ...cache }));
  app.get('/assets/swagger-ui.css', (c) => c.body(swaggerStyle, 200, { ...css, ...cache }));
}
