// Browser files bundled as text (see [[rules]] in wrangler.toml): uPlot's minified script and
// stylesheet, Swagger UI's (npm swagger-ui-dist), and the pages' own scripts.
import uplotScript from 'uplot/dist/uPlot.iife.min.js';
import uplotStyle from 'uplot/dist/uPlot.min.css';
import swaggerScript from 'swagger-ui-dist/swagger-ui-bundle.js';
import swaggerStyleWithMap from 'swagger-ui-dist/swagger-ui.css';
import dashboardScript from './dashboard.browser.js';
import docsScript from './docs.browser.js';

/** Without its source-map comment: the map is not served. */
const swaggerStyle = swaggerStyleWithMap.replace(/\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '');

export { uplotScript, uplotStyle, swaggerScript, swaggerStyle, dashboardScript, docsScript };

/** Response headers of the assets. Libraries are versioned with the package: an hour. The pages' own scripts change with the pages: revalidated. */
export const js = { 'content-type': 'text/javascript; charset=utf-8' };
export const css = { 'content-type': 'text/css; charset=utf-8' };
export const cache = { 'cache-control': 'public, max-age=3600' };
export const revalidate = { 'cache-control': 'no-cache' };
