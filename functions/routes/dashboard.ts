import { uplotScript, uplotStyle } from '../dashboard/assets';
import { dashboardHtml, docsHtml } from '../dashboard/page';
import type { App } from '../types';

const cache = { 'cache-control': 'public, max-age=3600' };

/** GET / (the dashboard), GET /docs (the API's documentation), and the dashboard's chart library. */
export function registerDashboard(app: App) {
  app.get('/', (c) => c.html(dashboardHtml));
  app.get('/docs', (c) => c.html(docsHtml));
  app.get('/assets/uplot.js', (c) => c.body(uplotScript, 200, { 'content-type': 'text/javascript; charset=utf-8', ...cache }));
  app.get('/assets/uplot.css', (c) => c.body(uplotStyle, 200, { 'content-type': 'text/css; charset=utf-8', ...cache }));
}
