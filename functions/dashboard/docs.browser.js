// Starts Swagger UI on /docs (plain browser JS, served as /assets/docs.js; see functions/dashboard/assets.ts).
// The OpenAPI document declares a `bearer` http security scheme, so "Authorize" asks for a key and
// "Try it out" sends it as `Authorization: Bearer <key>`. The key the dashboard keeps for this tab
// (sessionStorage) is filled in; nothing is stored beyond the tab.
(() => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#out',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    tryItOutEnabled: false,
    persistAuthorization: false,
    onComplete: () => {
      const key = sessionStorage.getItem('logsReadKey');
      if (key) window.ui.preauthorizeApiKey('bearer', key);
    },
  });
})();
