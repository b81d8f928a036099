/** The dashboard: one HTML page; its script (/assets/dashboard.js, no inline script or handler) calls the read API with a key kept in sessionStorage. */
export const dashboardHtml = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trading logs</title>
<link rel="stylesheet" href="/assets/uplot.css">
<style>
  :root { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2433; background: #f5f6f8; }
  body { margin: 0; }
  header { background: #1d2433; color: #fff; padding: 10px 16px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0 auto 0 0; }
  main { padding: 12px 16px; display: grid; gap: 14px; grid-template-columns: minmax(0, 1fr); }
  section { background: #fff; border-radius: 6px; padding: 12px; box-shadow: 0 1px 2px #0001; min-width: 0; }
  h2 { font-size: 14px; margin: 0 0 8px; }
  form, .row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
  input, select, button { font: inherit; padding: 5px 7px; border: 1px solid #c8ccd4; border-radius: 4px; }
  input { min-width: 0; flex: 1 1 120px; }
  button { background: #2d5bd7; color: #fff; border-color: #2d5bd7; cursor: pointer; }
  button.secondary { background: #fff; color: #2d5bd7; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eceef2; vertical-align: top; white-space: nowrap; }
  td.msg { white-space: normal; min-width: 200px; }
  tr.rec { cursor: pointer; }
  tr.rec:hover { background: #f0f4ff; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-all; background: #f7f7f9; padding: 6px; }
  .lvl-ERROR, .lvl-CRITICAL { color: #b3261e; font-weight: 600; }
  .lvl-WARNING { color: #a15c00; }
  .lvl-DEBUG { color: #777; }
  .muted { color: #6b7280; }
  .bar { height: 10px; background: #2d5bd7; border-radius: 2px; min-width: 2px; }
  .timeline td { white-space: normal; }
  .charts { display: grid; gap: 14px; grid-template-columns: repeat(auto-fit, minmax(min(300px, 100%), 1fr)); }
  .charts section { overflow: hidden; }
  #error { color: #b3261e; }
</style>
</head>
<body>
<header>
  <h1>Trading logs</h1>
  <input id="key" type="password" placeholder="read API key" autocomplete="off" style="max-width:260px">
  <button id="save-key" class="secondary">Use key</button>
  <a href="/docs" style="color:#cfd8ff">API docs</a>
</header>
<main>
  <div id="error" role="alert"></div>
  <section>
    <h2>Search</h2>
    <form id="search">
      <input name="service" placeholder="service(s)">
      <select name="level"><option value="">any level</option><option>DEBUG</option><option>INFO</option><option>WARNING</option><option>ERROR</option><option>CRITICAL</option></select>
      <input name="event_type" placeholder="event type">
      <input name="correlation_id" placeholder="correlation id">
      <input name="q" placeholder="text in message">
      <input name="data" placeholder="data: symbol=AAPL, side=buy">
      <input name="from" type="datetime-local" title="from">
      <input name="to" type="datetime-local" title="to">
      <button type="submit">Search</button>
    </form>
    <div class="scroll"><table id="results"><thead><tr><th>time (UTC)</th><th>level</th><th>service</th><th>message</th><th>correlation</th></tr></thead><tbody></tbody></table></div>
    <div class="row"><button id="more" class="secondary" hidden>Load more</button><span id="count" class="muted"></span></div>
  </section>
  <section>
    <h2>Trace</h2>
    <form id="trace"><input name="id" placeholder="correlation id"><button type="submit">Show timeline</button></form>
    <div id="trace-out" class="scroll"></div>
  </section>
  <section>
    <h2>Live tail <span id="tail-state" class="muted">(stopped)</span></h2>
    <div class="row"><button id="tail-toggle">Start</button><span class="muted">uses the search filters</span></div>
    <div class="scroll"><table id="tail"><tbody></tbody></table></div>
  </section>
  <section id="alerts">
    <h2>Alerts <span id="alerts-state" class="muted"></span></h2>
    <div class="row"><button id="alerts-refresh" class="secondary">Refresh</button><span class="muted">needs a key for every service ("*"); silencing needs the admin scope</span></div>
    <h3>Firing and pending</h3><div class="scroll"><table id="alerts-active"><tbody></tbody></table></div>
    <h3>Rules</h3><div class="scroll"><table id="alerts-rules"><tbody></tbody></table></div>
    <h3>History</h3><div class="scroll"><table id="alerts-history"><tbody></tbody></table></div>
  </section>
  <div class="charts">
    <section><h2>Errors over time (24 h)</h2><div id="errors-chart"></div><div id="errors-table" class="scroll"></div></section>
    <section><h2>Latency by operation (24 h), ms</h2><div id="latency-chart"></div><div id="latency-table" class="scroll"></div></section>
  </div>
</main>
<script src="/assets/uplot.js"></script>
<script type="module" src="/assets/dashboard.js"></script>
</body>
</html>`;

/**
 * The API's documentation: Swagger UI (npm swagger-ui-dist, served by this Worker, no CDN) rendering
 * /openapi.json; "Authorize" takes a key for "Try it out". Its script is /assets/docs.js, not inline.
 */
export const docsHtml = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs · Trading log ingest</title>
<link rel="stylesheet" href="/assets/swagger-ui.css">
<style>body { margin: 0; } .docs-nav { font: 14px system-ui, sans-serif; background: #1d2433; padding: 10px 16px; } .docs-nav a { color: #cfd8ff; }</style>
</head>
<body>
<nav class="docs-nav"><a href="/">Dashboard</a> · <a href="/openapi.json">openapi.json</a></nav>
<main id="out"></main>
<script src="/assets/swagger-ui-bundle.js"></script>
<script src="/assets/docs.js"></script>
</body>
</html>`;
