import { secureHeaders } from 'hono/secure-headers';

/**
 * Hono's secure headers on every answer (nosniff, no framing, no referrer beyond the origin, HSTS)
 * with a Content-Security-Policy for the dashboard and the docs: scripts only from this origin (the
 * pages have no inline script: theirs are served as /assets/*.js), nothing framed, no plugins.
 * Styles may be inline (the pages' own <style>, and uPlot's and Swagger UI's element styles).
 *
 * @example
 * app.use(securityHeaders())
 */
export function securityHeaders() {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'strict-origin-when-cross-origin',
    crossOriginEmbedderPolicy: false,
  });
}
