import { cache, css, dashboardScript, js, revalidate, uplotScript, uplotStyle } from '../dashboard/assets';
import { dashboardHtml } from '../dashboard/page';
import type { App } from '../types';
import { registerDocs } from './docs';

/** GET / (the dashboard), its script and chart library, and GET /docs (the API's documentation, see ./docs). */
export function registerDashboard(app: App) {
  app.get('/', (c) => c.html(dashboardHtml));
  app.get('/assets/dashboard.js', (c) => c.body(dashboardScript, 200, { ...js, ...revalidate }));
  app.get('/assets/uplot.js', (c) => c.body(uplotScript, 200, { ...js, ...cache }));
  app.get('/assets/uplot.css', (c) => c.body(uplotStyle, 200, { ...css, ...cache }));
  registerDocs(app);
}
