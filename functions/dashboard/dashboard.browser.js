// The dashboard's script: plain browser JS, an ES module (its own scope), served as /assets/dashboard.js
// (see functions/dashboard/assets.ts). It calls the read API with a key kept in sessionStorage. No inline
// script or handler in the page, so the page works under `Content-Security-Policy: script-src 'self'`.
// uPlot is the global of /assets/uplot.js, loaded before it.
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
let key = sessionStorage.getItem('logsReadKey') || '';
$('#key').value = key;
const showError = (m) => {
  $('#error').textContent = m || '';
};
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
  tr.innerHTML =
    '<td>' +
    esc(r.timestamp.replace('T', ' ').slice(0, 23)) +
    '</td><td class="lvl-' +
    esc(r.level) +
    '">' +
    esc(r.level) +
    '</td><td>' +
    esc(r.service) +
    '</td><td class="msg">' +
    esc(r.message) +
    (r.archived ? ' <span class="muted">(archived)</span>' : '') +
    '</td><td>' +
    (r.correlation_id ? '<a href="#" data-trace="' + esc(r.correlation_id) + '">' + esc(r.correlation_id) + '</a>' : '') +
    '</td>';
  tr.addEventListener('click', (e) => {
    const t = e.target.closest('[data-trace]');
    if (t) {
      e.preventDefault();
      $('#trace [name=id]').value = t.dataset.trace;
      showTrace(t.dataset.trace);
      return;
    }
    const next = tr.nextElementSibling;
    if (next?.classList.contains('detail')) {
      next.remove();
      return;
    }
    const d = document.createElement('tr');
    d.className = 'detail';
    d.innerHTML =
      '<td colspan="5"><pre>' +
      esc(JSON.stringify({ id: r.id, event_type: r.event_type, received_at: r.received_at, data: r.data }, null, 2)) +
      '</pre></td>';
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
    if (!more) {
      tbody.innerHTML = '';
      shown = 0;
    }
    for (const r of body.logs) tbody.append(row(r));
    shown += body.logs.length;
    nextCursor = body.nextCursor;
    $('#more').hidden = !nextCursor;
    $('#count').textContent = shown + ' shown';
  } catch (e) {
    showError(e.message);
  }
}
async function showTrace(id) {
  showError('');
  try {
    const t = await (await api('/v1/traces/' + encodeURIComponent(id))).json();
    const total = Math.max(1, t.duration_ms);
    $('#trace-out').innerHTML =
      '<p class="muted">' +
      t.events.length +
      ' events over ' +
      t.duration_ms.toFixed(1) +
      ' ms</p><table class="timeline"><tbody>' +
      t.events
        .map(
          (e) =>
            '<tr><td>+' +
            e.offset_ms.toFixed(1) +
            ' ms</td><td>' +
            esc(e.service) +
            '</td><td class="lvl-' +
            esc(e.level) +
            '">' +
            esc(e.kind === 'metric' ? 'PERF' : e.level) +
            '</td><td class="msg">' +
            esc(e.kind === 'metric' ? e.operation + ' (' + e.duration_ms + ' ms)' : e.message) +
            '</td><td style="width:30%"><div class="bar" style="margin-left:' +
            ((e.offset_ms / total) * 100).toFixed(2) +
            '%;width:' +
            (((e.duration_ms || 0) / total) * 100).toFixed(2) +
            '%"></div></td></tr>',
        )
        .join('') +
      '</tbody></table>';
  } catch (e) {
    showError(e.message);
  }
}
let tail = null;
let lastEventId = null;
async function startTail() {
  const controller = new AbortController();
  tail = controller;
  $('#tail-toggle').textContent = 'Pause';
  $('#tail-state').textContent = '(live)';
  try {
    const res = await api('/v1/tail?' + params(), {
      signal: controller.signal,
      headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {},
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(block);
        const id = /^id: (.*)$/m.exec(block);
        if (!data) continue;
        if (id) lastEventId = id[1];
        $('#tail tbody').prepend(row(JSON.parse(data[1])));
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') showError(e.message);
  }
  if (tail === controller) stopTail();
}
function stopTail() {
  if (tail) tail.abort();
  tail = null;
  $('#tail-toggle').textContent = 'Start';
  $('#tail-state').textContent = '(paused)';
}

// Charts (uPlot). The instances are on window.__charts ({ errors, latency }) for the tests.
const WINDOW = { name: '24h', seconds: 86_400 };
const COLORS = ['#2d5bd7', '#b3261e', '#a15c00', '#1b7f3b', '#7b3fb3', '#00838f', '#c2185b', '#5d4037', '#455a64', '#827717'];
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
// Steps of 1, 2 and 5 per decade, whole numbers only: counts never get ticks like 0.2.
const wholeIncrs = [];
for (let m = 1; m <= 1e12; m *= 10) wholeIncrs.push(m, 2 * m, 5 * m);
/** A y axis as wide as its widest tick label (uPlot's default is a fixed 50 px, which cuts "33,333"). */
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  if (values?.length) {
    const font = u.ctx.font;
    u.ctx.font = axis.font[0];
    size += Math.max(...values.map((v) => (v == null ? 0 : u.ctx.measureText(String(v)).width))) / devicePixelRatio;
    u.ctx.font = font;
  }
  return Math.ceil(size) + 2;
}
/** Bucket starts (epoch seconds) covering from..to, with any bucket the API returned. */
function bucketGrid(from, to, bucketSeconds, extra) {
  const set = new Set(extra);
  for (let t = Math.floor(from / bucketSeconds) * bucketSeconds; t <= to; t += bucketSeconds) set.add(t);
  return [...set].sort((a, b) => a - b);
}
/** The first bucket starts before the window: drawn at its start, once. */
const clamped = (xs, from) => xs.map((t) => Math.max(from, t)).filter((t, i, a) => t !== a[i - 1]);
const charts = {};
window.__charts = charts;
const chartWidth = (el) => Math.max(200, el.clientWidth || 300);
function chart(name, el, opts, data) {
  if (charts[name]) charts[name].destroy();
  charts[name] = new uPlot({ width: chartWidth(el), height: 200, ...opts }, data, el);
}
addEventListener('resize', () => {
  for (const u of Object.values(charts)) u.setSize({ width: chartWidth(u.root.parentElement), height: 200 });
});
/** Errors per bucket over the window, 0 where none: x is the window, y whole numbers. */
function drawErrors(errors, from, to) {
  const at = (bucket) => Math.max(from, Date.parse(bucket) / 1000);
  const counts = new Map(errors.buckets.map((b) => [at(b.bucket), b.count]));
  const xs = clamped(bucketGrid(from, to, errors.bucket_seconds, counts.keys()), from);
  chart(
    'errors',
    $('#errors-chart'),
    {
      scales: { x: { time: true, range: () => [from, to] }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.05))] } },
      axes: [{}, { size: axisSize, incrs: wholeIncrs, values: (_u, splits) => splits.map((v) => whole.format(v)) }],
      series: [{}, { label: 'errors', stroke: '#b3261e', fill: '#b3261e22', value: (_u, v) => (v == null ? '–' : whole.format(v)) }],
    },
    [xs, xs.map((t) => counts.get(t) ?? 0)],
  );
  $('#errors-table').innerHTML =
    '<table><tr><th>service</th><th>level</th><th>count</th><th>last</th></tr>' +
    errors.by_service
      .map(
        (r) =>
          '<tr><td>' +
          esc(r.service) +
          '</td><td>' +
          esc(r.level) +
          '</td><td>' +
          r.count +
          '</td><td>' +
          esc(r.last_occurrence.slice(0, 19)) +
          '</td></tr>',
      )
      .join('') +
    '</table>';
}
/** p95 per time bucket, one series per operation (those of the table, up to 20); no point where no metric. */
function drawLatency(perf, latency, from, to) {
  const at = (bucket) => Math.max(from, Date.parse(bucket) / 1000);
  const ops = perf.operations.slice(0, 20);
  const byOp = new Map(latency.series.map((s) => [s.service + '/' + s.operation, s]));
  const shown = ops.map((o) => byOp.get(o.service + '/' + o.operation)).filter(Boolean);
  const xs = clamped(
    bucketGrid(
      from,
      to,
      latency.bucket_seconds,
      shown.flatMap((s) => s.points.map((p) => at(p.bucket))),
    ),
    from,
  );
  const index = new Map(xs.map((t, i) => [t, i]));
  const ys = shown.map((s) => {
    const y = xs.map(() => null);
    for (const p of s.points) y[index.get(at(p.bucket))] = p.p95_ms;
    return y;
  });
  chart(
    'latency',
    $('#latency-chart'),
    {
      scales: { x: { time: true, range: () => [from, to] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { size: axisSize, values: (_u, splits) => splits.map((v) => decimal.format(v)) }],
      series: [
        {},
        ...shown.map((s, i) => ({
          label: s.service + '/' + s.operation,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: false,
          points: { show: true, size: 5 },
          value: (_u, v) => (v == null ? '–' : decimal.format(v) + ' ms'),
        })),
      ],
    },
    [xs, ...ys],
  );
  $('#latency-table').innerHTML =
    '<table><tr><th>service</th><th>operation</th><th>count</th><th>avg</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>' +
    ops
      .map(
        (o) =>
          '<tr><td>' +
          esc(o.service) +
          '</td><td>' +
          esc(o.operation) +
          '</td><td>' +
          o.count +
          '</td><td>' +
          o.avg_ms +
          '</td><td>' +
          o.p50_ms +
          '</td><td>' +
          o.p95_ms +
          '</td><td>' +
          o.p99_ms +
          '</td><td>' +
          o.max_ms +
          '</td></tr>',
      )
      .join('') +
    '</table>';
}
async function loadCharts() {
  try {
    const [errors, perf, latency] = await Promise.all(
      ['errors', 'performance', 'latency'].map((stat) => api('/v1/stats/' + stat + '?window=' + WINDOW.name).then((r) => r.json())),
    );
    // The x axis is the window, whatever the data: one bucket of errors must not range it over years.
    const to = Date.now() / 1000;
    drawErrors(errors, to - WINDOW.seconds, to);
    drawLatency(perf, latency, to - WINDOW.seconds, to);
  } catch (e) {
    showError(e.message);
  }
}
$('#save-key').addEventListener('click', () => {
  key = $('#key').value.trim();
  sessionStorage.setItem('logsReadKey', key);
  search(false);
  loadCharts();
});
$('#search').addEventListener('submit', (e) => {
  e.preventDefault();
  search(false);
  if (tail) {
    stopTail();
    startTail();
  }
});
$('#more').addEventListener('click', () => search(true));
$('#trace').addEventListener('submit', (e) => {
  e.preventDefault();
  showTrace(new FormData(e.target).get('id'));
});
$('#tail-toggle').addEventListener('click', () => (tail ? stopTail() : startTail()));

// Alerts: firing and pending instances, the rules with their state, the history, a silence action.
const cell = (v) => '<td>' + esc(v) + '</td>';
async function loadAlerts() {
  try {
    const [{ rules }, { history }] = await Promise.all([
      api('/v1/alerts/rules').then((r) => r.json()),
      api('/v1/alerts/history?limit=50').then((r) => r.json()),
    ]);
    const active = rules.flatMap((r) => r.instances.filter((i) => i.state !== 'normal').map((i) => ({ rule: r.rule.name, ...i })));
    $('#alerts-state').textContent = '(' + active.filter((i) => i.state === 'firing').length + ' firing)';
    $('#alerts-active tbody').innerHTML =
      active
        .map(
          (i) =>
            '<tr class="lvl-' +
            (i.severity === 'critical' ? 'CRITICAL' : 'WARNING') +
            '">' +
            cell(i.state + (i.severity ? ' / ' + i.severity : '')) +
            cell(i.rule) +
            cell(
              Object.entries(i.labels)
                .map(([k, v]) => k + '=' + v)
                .join(', '),
            ) +
            cell('value ' + i.value + ' vs ' + i.threshold) +
            cell(i.since) +
            '<td>' +
            i.samples.map((s) => '<a href="?trace=' + encodeURIComponent(s) + '">' + esc(s) + '</a>').join(' ') +
            '</td>' +
            '<td><button class="secondary" data-silence="' +
            esc(i.rule) +
            '">Silence 1 h</button></td></tr>',
        )
        .join('') || '<tr><td class="muted">nothing firing or pending</td></tr>';
    $('#alerts-rules tbody').innerHTML = rules
      .map(
        (r) =>
          '<tr>' +
          cell(r.rule.name) +
          cell(r.rule.kind) +
          cell(r.rule.enabled ? 'enabled' : 'disabled') +
          cell('window ' + r.rule.window) +
          cell(r.instances.filter((i) => i.state === 'firing').length + ' firing') +
          '</tr>',
      )
      .join('');
    $('#alerts-history tbody').innerHTML = history
      .map(
        (h) =>
          '<tr>' +
          cell(h.minute) +
          cell(h.rule) +
          cell(h.group_key || '(all)') +
          cell((h.from_state || 'new') + ' → ' + h.to_state) +
          cell(h.value) +
          cell(h.silenced ? 'silenced' : '') +
          '</tr>',
      )
      .join('');
  } catch (e) {
    $('#alerts-state').textContent = '(' + e.message + ')';
  }
}
$('#alerts-refresh').addEventListener('click', loadAlerts);
$('#alerts-active').addEventListener('click', async (e) => {
  const b = e.target.closest('[data-silence]');
  if (!b) return;
  const body = {
    matchers: [{ label: 'alertname', value: b.dataset.silence }],
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    comment: 'silenced from the dashboard',
  };
  try {
    await api('/v1/alerts/silences', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    b.textContent = 'silenced';
    b.disabled = true;
  } catch (err) {
    showError(err.message);
  }
});

// Links from notifications: ?trace=<id> opens the timeline; the search filters prefill the form.
const linked = new URLSearchParams(location.search);
for (const name of ['service', 'level', 'event_type', 'correlation_id', 'q'])
  if (linked.get(name)) $('#search [name=' + name + ']').value = linked.get(name);
for (const name of ['from', 'to']) if (linked.get(name)) $('#search [name=' + name + ']').value = linked.get(name).slice(0, 16);
if (key) {
  search(false);
  loadCharts();
  loadAlerts();
  if (linked.get('trace')) {
    $('#trace [name=id]').value = linked.get('trace');
    showTrace(linked.get('trace'));
  }
}
