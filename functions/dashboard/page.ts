/** The dashboard: one HTML page with a small script, calling the read API with a key kept in sessionStorage. */
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
  <div class="charts">
    <section><h2>Errors over time (24 h)</h2><div id="errors-chart"></div><div id="errors-table" class="scroll"></div></section>
    <section><h2>Latency by operation (24 h), ms</h2><div id="latency-chart"></div><div id="latency-table" class="scroll"></div></section>
  </div>
</main>
<script src="/assets/uplot.js"></script>
<script>
(() => {
  const $ = (s) => document.querySelector(s);
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  let key = sessionStorage.getItem('logsReadKey') || '';
  $('#key').value = key;
  const showError = (m) => { $('#error').textContent = m || ''; };
  async function api(path, options = {}) {
    const res = await fetch(path, { ...options, headers: { authorization: 'Bearer ' + key, ...(options.headers || {}) } });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      const issues = (body.issues || []).map((i) => i.path + ': ' + i.message).join('; ');
      throw new Error((body.message || res.statusText) + (issues ? ' (' + issues + ')' : ''));
    }
    return res;
  }
  function params() {
    const f = new FormData($('#search'));
    const p = new URLSearchParams();
    for (const name of ['service', 'level', 'event_type', 'correlation_id', 'q']) if (f.get(name)) p.set(name, f.get(name));
    for (const name of ['from', 'to']) if (f.get(name)) p.set(name, new Date(f.get(name) + 'Z').toISOString());
    for (const pair of String(f.get('data') || '').split(',')) {
      const [k, ...v] = pair.split('=');
      if (k.trim() && v.length) p.set('data.' + k.trim(), v.join('=').trim());
    }
    return p;
  }
  function row(r) {
    const tr = document.createElement('tr');
    tr.className = 'rec';
    tr.innerHTML = '<td>' + esc(r.timestamp.replace('T', ' ').slice(0, 23)) + '</td><td class="lvl-' + esc(r.level) + '">' + esc(r.level) + '</td><td>' + esc(r.service) +
      '</td><td class="msg">' + esc(r.message) + (r.archived ? ' <span class="muted">(archived)</span>' : '') + '</td><td>' +
      (r.correlation_id ? '<a href="#" data-trace="' + esc(r.correlation_id) + '">' + esc(r.correlation_id) + '</a>' : '') + '</td>';
    tr.addEventListener('click', (e) => {
      const t = e.target.closest('[data-trace]');
      if (t) { e.preventDefault(); $('#trace [name=id]').value = t.dataset.trace; showTrace(t.dataset.trace); return; }
      const next = tr.nextElementSibling;
      if (next && next.classList.contains('detail')) { next.remove(); return; }
      const d = document.createElement('tr');
      d.className = 'detail';
      d.innerHTML = '<td colspan="5"><pre>' + esc(JSON.stringify({ id: r.id, event_type: r.event_type, received_at: r.received_at, data: r.data }, null, 2)) + '</pre></td>';
      tr.after(d);
    });
    return tr;
  }
  let nextCursor = null;
  let shown = 0;
  async function search(more) {
    showError('');
    const p = params();
    p.set('limit', '50');
    if (more && nextCursor) p.set('cursor', nextCursor);
    try {
      const body = await (await api('/v1/logs?' + p)).json();
      const tbody = $('#results tbody');
      if (!more) { tbody.innerHTML = ''; shown = 0; }
      for (const r of body.logs) tbody.append(row(r));
      shown += body.logs.length;
      nextCursor = body.nextCursor;
      $('#more').hidden = !nextCursor;
      $('#count').textContent = shown + ' shown';
    } catch (e) { showError(e.message); }
  }
  async function showTrace(id) {
    showError('');
    try {
      const t = await (await api('/v1/traces/' + encodeURIComponent(id))).json();
      const total = Math.max(1, t.duration_ms);
      $('#trace-out').innerHTML = '<p class="muted">' + t.events.length + ' events over ' + t.duration_ms.toFixed(1) + ' ms</p><table class="timeline"><tbody>' +
        t.events.map((e) => '<tr><td>+' + e.offset_ms.toFixed(1) + ' ms</td><td>' + esc(e.service) + '</td><td class="lvl-' + esc(e.level) + '">' + esc(e.kind === 'metric' ? 'PERF' : e.level) +
          '</td><td class="msg">' + esc(e.kind === 'metric' ? e.operation + ' (' + e.duration_ms + ' ms)' : e.message) + '</td><td style="width:30%"><div class="bar" style="margin-left:' +
          (e.offset_ms / total * 100).toFixed(2) + '%;width:' + ((e.duration_ms || 0) / total * 100).toFixed(2) + '%"></div></td></tr>').join('') + '</tbody></table>';
    } catch (e) { showError(e.message); }
  }
  let tail = null;
  let lastEventId = null;
  async function startTail() {
    const controller = new AbortController();
    tail = controller;
    $('#tail-toggle').textContent = 'Pause';
    $('#tail-state').textContent = '(live)';
    try {
      const res = await api('/v1/tail?' + params(), { signal: controller.signal, headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {} });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\\n\\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(block);
          const id = /^id: (.*)$/m.exec(block);
          if (!data) continue;
          if (id) lastEventId = id[1];
          $('#tail tbody').prepend(row(JSON.parse(data[1])));
        }
      }
    } catch (e) { if (e.name !== 'AbortError') showError(e.message); }
    if (tail === controller) stopTail();
  }
  function stopTail() {
    if (tail) tail.abort();
    tail = null;
    $('#tail-toggle').textContent = 'Start';
    $('#tail-state').textContent = '(paused)';
  }
  const charts = {};
  function chart(id, opts, data) {
    const el = $(id);
    if (charts[id]) charts[id].destroy();
    charts[id] = new uPlot({ width: Math.max(200, el.clientWidth || 300), height: 200, ...opts }, data, el);
  }
  addEventListener('resize', () => { for (const [id, u] of Object.entries(charts)) u.setSize({ width: Math.max(200, $(id).clientWidth), height: 200 }); });
  async function loadCharts() {
    try {
      const errors = await (await api('/v1/stats/errors?window=24h')).json();
      const xs = errors.buckets.map((b) => Date.parse(b.bucket) / 1000);
      chart('#errors-chart', { series: [{}, { label: 'errors', stroke: '#b3261e', fill: '#b3261e22' }] }, [xs, errors.buckets.map((b) => b.count)]);
      $('#errors-table').innerHTML = '<table><tr><th>service</th><th>level</th><th>count</th><th>last</th></tr>' +
        errors.by_service.map((r) => '<tr><td>' + esc(r.service) + '</td><td>' + esc(r.level) + '</td><td>' + r.count + '</td><td>' + esc(r.last_occurrence.slice(0, 19)) + '</td></tr>').join('') + '</table>';
      const perf = await (await api('/v1/stats/performance?window=24h')).json();
      const ops = perf.operations.slice(0, 20);
      const idx = ops.map((_, i) => i);
      chart('#latency-chart', {
        scales: { x: { time: false } },
        axes: [{ values: (u, v) => v.map((i) => (ops[i] ? ops[i].operation : '')) }, {}],
        series: [{}, { label: 'p50', stroke: '#2d5bd7', points: { size: 6 } }, { label: 'p95', stroke: '#a15c00', points: { size: 6 } }, { label: 'p99', stroke: '#b3261e', points: { size: 6 } }],
      }, [idx, ops.map((o) => o.p50_ms), ops.map((o) => o.p95_ms), ops.map((o) => o.p99_ms)]);
      $('#latency-table').innerHTML = '<table><tr><th>service</th><th>operation</th><th>count</th><th>avg</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>' +
        ops.map((o) => '<tr><td>' + esc(o.service) + '</td><td>' + esc(o.operation) + '</td><td>' + o.count + '</td><td>' + o.avg_ms + '</td><td>' + o.p50_ms + '</td><td>' + o.p95_ms + '</td><td>' + o.p99_ms + '</td><td>' + o.max_ms + '</td></tr>').join('') + '</table>';
    } catch (e) { showError(e.message); }
  }
  $('#save-key').addEventListener('click', () => { key = $('#key').value.trim(); sessionStorage.setItem('logsReadKey', key); search(false); loadCharts(); });
  $('#search').addEventListener('submit', (e) => { e.preventDefault(); search(false); if (tail) { stopTail(); startTail(); } });
  $('#more').addEventListener('click', () => search(true));
  $('#trace').addEventListener('submit', (e) => { e.preventDefault(); showTrace(new FormData(e.target).get('id')); });
  $('#tail-toggle').addEventListener('click', () => (tail ? stopTail() : startTail()));
  if (key) { search(false); loadCharts(); }
})();
</script>
</body>
</html>`;

/** A readable page of the OpenAPI document (no external assets: it renders /openapi.json itself). */
export const docsHtml = /* html */ `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>API docs</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:20px auto;padding:0 16px;color:#1d2433}code,pre{background:#f4f5f7;padding:2px 4px}pre{padding:8px;overflow-x:auto}h2{border-top:1px solid #ddd;padding-top:12px}.m{font-weight:700;text-transform:uppercase;margin-right:6px}</style></head>
<body><h1>Trading log ingest API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authentication: <code>Authorization: Bearer &lt;key&gt;</code>.</p><div id="out">Loading…</div>
<script>
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  const esc = (s) => String(s ?? '').replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  let html = '';
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    html += '<h2><span class="m">' + method + '</span><code>' + esc(path) + '</code></h2><p>' + esc(op.description || op.summary || '') + '</p>';
    const ps = op.parameters || [];
    if (ps.length) html += '<table>' + ps.map((p) => '<tr><td><code>' + esc(p.name) + '</code></td><td>' + esc(p.in) + '</td><td>' + esc(p.schema && (p.schema.type || (p.schema.enum || []).join(' | '))) + '</td><td>' + esc(p.description || '') + '</td></tr>').join('') + '</table>';
    html += '<p>Responses: ' + Object.entries(op.responses || {}).map(([s, r]) => '<b>' + s + '</b> ' + esc(r.description)).join(', ') + '</p>';
  }
  document.getElementById('out').innerHTML = html;
});
</script></body></html>`;
