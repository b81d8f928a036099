/**
 * The dashboard in headless Chromium (Debian's package, driven by playwright-core) against the
 * real Worker under `wrangler dev` and the real Postgres: search, a trace, the live tail, the charts
 * (read from the uPlot instances the page puts on window.__charts), and Swagger UI on /docs; both
 * pages under `Content-Security-Policy: script-src 'self'`. Screenshots go to test/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSql } from '../../shared/db/client';
import { applyAlertingFile } from '../../shared/alerting';
import { createKey } from '../../shared/db/api-keys';
import { freePort, projectRoot } from '../../shared/dev/postgres';
import { startWorker, type WorkerProcess } from '../../shared/dev/wrangler';

const databaseUrl = inject('databaseUrl');
const sql = createSql(databaseUrl, { max: 1 });
const shots = path.join(projectRoot, 'test', 'screenshots');
let worker: WorkerProcess;
let browser: Browser;
let readKey: string;
let writeKey: string;
const service = `dash_${crypto.randomUUID().slice(0, 8)}`;
const cid = `trade-${crypto.randomUUID().slice(0, 8)}`;

async function ingest(logs: unknown[], metrics: unknown[] = [], key = writeKey) {
  const res = await fetch(`${worker.url}/v1/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ logs, metrics }),
  });
  expect(res.status).toBe(200);
}

/**
 * Serves `path` with `Content-Security-Policy: script-src 'self'` (the Worker does not send one yet)
 * and collects what the browser reports against it, and any script error.
 */
async function underStrictCsp(page: Page, path: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  await page.route(`${worker.url}${path}`, async (route) => {
    const res = await route.fetch();
    // The service's own policy (functions/middleware/security.ts); a strict stand-in if it had none.
    const served = res.headers()['content-security-policy'];
    await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': served ?? "script-src 'self'" } });
  });
  return problems;
}

// Functions, not strings, for page.evaluate / waitForFunction: under script-src 'self' the page may not
// eval a string. They run in the page, where globalThis is the window; the project's types have no DOM
// lib, so what they use of it is declared here.
interface ChartAxis {
  font: [string];
  ticks: { size: number };
  gap: number;
  _pos: number;
  _values: string[];
  _splits: number[];
}
interface Chart {
  scales: { x: { min: number; max: number } };
  axes: ChartAxis[];
  series: { label: string }[];
  data: (number | null)[][];
}
interface PageElement {
  tagName: string;
  src?: string;
  attributes: Iterable<{ name: string }>;
}
interface PageGlobals {
  __charts?: { errors?: Chart; latency?: Chart };
  devicePixelRatio: number;
  document: {
    scripts: Iterable<PageElement>;
    querySelectorAll(selector: string): Iterable<PageElement>;
    createElement(tag: 'canvas'): { getContext(kind: '2d'): { font: string; measureText(text: string): { width: number } } };
  };
}

/** What the page's scripts are made of: inline scripts and inline event handlers (both should be none). */
const inlineCode = () => {
  const { document } = globalThis as unknown as PageGlobals;
  return {
    scripts: [...document.scripts].filter((s) => !s.src).length,
    handlers: [...document.querySelectorAll('*')].flatMap((e) =>
      [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName}@${a.name}`),
    ),
  };
};

const chartsDrawn = () => {
  const { __charts } = globalThis as unknown as PageGlobals;
  return Boolean(__charts?.errors && __charts.latency);
};

/** The charts, read from the uPlot instances: x ranges, the errors y axis's labels and room, the latency series. */
const chartFacts = () => {
  const { __charts, document, devicePixelRatio } = globalThis as unknown as PageGlobals;
  const { errors, latency } = __charts as { errors: Chart; latency: Chart };
  const ctx = document.createElement('canvas').getContext('2d');
  // Left edge of the widest tick label (uPlot right-aligns them against the ticks at the plot's
  // edge), in CSS pixels from the chart's left: >= 0 is fully visible.
  const labelLeft = (axis: ChartAxis) => {
    ctx.font = axis.font[0];
    return axis._pos - axis.ticks.size - axis.gap - Math.max(...axis._values.map((v) => ctx.measureText(v).width / devicePixelRatio));
  };
  const y = errors.axes[1]!;
  return {
    now: Date.now() / 1000,
    errorsX: [errors.scales.x.min, errors.scales.x.max],
    errorsMax: Math.max(...(errors.data[1] as number[])),
    yLabels: y._values,
    ySplits: y._splits,
    yLabelLeft: labelLeft(y),
    latencyX: [latency.scales.x.min, latency.scales.x.max],
    latencyLabels: latency.series.slice(1).map((s) => s.label),
    latencyPoints: latency.data.slice(1).map((d) => d.filter((v) => v != null).length),
    latencyLabelLeft: labelLeft(latency.axes[1]!),
  };
};

beforeAll(async () => {
  if (!existsSync('/usr/bin/chromium')) throw new Error('Chromium is missing: apt-get install -y chromium (.ci/run does it)');
  mkdirSync(shots, { recursive: true });
  worker = await startWorker({ port: await freePort(), databaseUrl, stdio: 'ignore' });
  readKey = (await createKey(sql, { service, scopes: ['read'] })).key;
  writeKey = (await createKey(sql, { service })).key;
  await ingest(
    [
      {
        service,
        level: 'INFO',
        message: 'Order ORD1 created',
        correlation_id: cid,
        data: { symbol: 'AAPL', qty: 100 },
        event_type: 'trading',
      },
      { service, level: 'ERROR', message: 'Venue rejected ORD1', correlation_id: cid, data: { symbol: 'AAPL', reason: 'price band' } },
      { service, level: 'INFO', message: 'Heartbeat', data: { symbol: 'MSFT' } },
    ],
    [{ service, operation: 'route_order', execution_time_ms: 12.5, correlation_id: cid }],
  );
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await sql.end();
});

/**
 * A page whose waits allow for a loaded machine: on 2 cores shared with the other test files'
 * Postgres and workerd, Chromium loading Swagger UI's bundle once took over Playwright's default 30 s.
 */
async function openPage(options?: Parameters<Browser['newPage']>[0]) {
  const page = await browser.newPage(options);
  page.setDefaultTimeout(60_000);
  page.setDefaultNavigationTimeout(60_000);
  return page;
}

describe('dashboard', { timeout: 150_000 }, () => {
  it('searches, opens a trace, and shows a record ingested during the test in the live tail', async () => {
    const page = await openPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${worker.url}/`);
    await page.fill('#key', readKey);
    await page.click('#save-key');
    await page.waitForSelector('#results tbody tr.rec');
    expect(await page.locator('#results tbody tr.rec').count()).toBe(3);

    await page.fill('#search [name=data]', 'symbol=AAPL');
    await page.selectOption('#search [name=level]', 'ERROR');
    await page.click('#search button[type=submit]');
    // Polled from here, not evaluated as a string in the page: its CSP allows no eval.
    await expect.poll(() => page.locator('#results tbody tr.rec').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.textContent('#results tbody')).toContain('Venue rejected ORD1');
    await page.click('#results tbody tr.rec td.msg');
    expect(await page.textContent('#results tbody tr.detail')).toContain('price band');
    await page.screenshot({ path: path.join(shots, 'search.png'), fullPage: true });

    await page.click(`#results [data-trace="${cid}"]`);
    await page.waitForSelector('#trace-out table');
    const trace = await page.textContent('#trace-out');
    expect(trace).toContain('3 events');
    expect(trace).toContain('route_order (12.5 ms)');
    await page.screenshot({ path: path.join(shots, 'trace.png'), fullPage: true });

    await page.fill('#search [name=data]', '');
    await page.selectOption('#search [name=level]', '');
    await page.click('#tail-toggle');
    await expect.poll(() => page.textContent('#tail-state'), { timeout: 60_000 }).toBe('(live)');
    await new Promise((r) => setTimeout(r, 1500));
    await ingest([{ service, level: 'WARNING', message: 'Live: position limit near', data: { pct: 93 } }]);
    await expect
      .poll(async () => (await page.textContent('#tail tbody')) ?? '', { timeout: 15_000 })
      .toContain('Live: position limit near');
    await page.click('#tail-toggle');
    expect(await page.textContent('#tail-state')).toBe('(paused)');
    await page.screenshot({ path: path.join(shots, 'tail.png'), fullPage: true });

    // Charts drew (uPlot canvases), and a phone-sized screen still shows the page without overflow.
    expect(await page.locator('#errors-chart canvas').count()).toBeGreaterThan(0);
    // One error in one bucket: the x axis is still the 24 h window, and the y ticks are whole (not 0.2, 0.4, …).
    await page.waitForFunction(chartsDrawn);
    const one = await page.evaluate(chartFacts);
    expect(one.errorsMax).toBe(1);
    expect(one.errorsX[1]! - one.errorsX[0]!).toBeCloseTo(86_400, 0);
    expect(one.ySplits.every((v) => Number.isInteger(v))).toBe(true);
    expect(one.yLabels).toEqual(one.ySplits.map(String));
    expect(one.latencyLabels).toEqual([`${service}/route_order`]);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.waitForSelector('#results tbody tr.rec');
    await page.waitForSelector('#errors-chart canvas');
    await page.screenshot({ path: path.join(shots, 'phone.png'), fullPage: true });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
  }, 150_000);

  it('charts: errors over the 24 h window with whole, visible y labels; p95 latency over time, one series per operation', async () => {
    // Another service, so the first test's counts stay as they are: 33,333 errors in one bucket
    // (5-digit labels, and the one bucket that made uPlot range the x axis over years) and metrics
    // of 3 operations in 3 time buckets.
    const chartService = `dash_${crypto.randomUUID().slice(0, 8)}`;
    const chartRead = (await createKey(sql, { service: chartService, scopes: ['read'] })).key;
    const chartWrite = (await createKey(sql, { service: chartService })).key;
    const at = new Date(Date.now() - 2 * 3600_000).toISOString();
    const batches = Array.from({ length: 34 }, (_, b) =>
      Array.from({ length: Math.min(1000, 33_333 - b * 1000) }, (_, i) => ({
        service: chartService,
        level: 'ERROR',
        message: `Venue timeout ${b * 1000 + i}`,
        timestamp: at,
      })),
    );
    for (let i = 0; i < batches.length; i += 4) await Promise.all(batches.slice(i, i + 4).map((logs) => ingest(logs, [], chartWrite)));
    const operations = ['route_order', 'risk_check', 'send_fill'];
    const bucketStart = (hoursAgo: number) => Math.floor((Date.now() / 1000 - hoursAgo * 3600) / 1440) * 1440; // the API's 24 h buckets
    await ingest(
      [],
      operations.flatMap((operation, o) =>
        [5, 3, 1].flatMap((hoursAgo) =>
          [1, 2, 3].map((k) => ({
            service: chartService,
            operation,
            execution_time_ms: (o + 1) * 10 * k + hoursAgo,
            timestamp: new Date((bucketStart(hoursAgo) + 60 + k) * 1000).toISOString(),
          })),
        ),
      ),
      chartWrite,
    );

    const page = await openPage({ viewport: { width: 1280, height: 900 } });
    const problems = await underStrictCsp(page, '/');
    await page.goto(`${worker.url}/`);
    expect(await page.evaluate(inlineCode)).toEqual({ scripts: 0, handlers: [] });
    await page.fill('#key', chartRead);
    await page.click('#save-key');
    await page.waitForFunction(chartsDrawn);
    await page.locator('.charts').screenshot({ path: path.join(shots, 'charts.png') });

    for (const width of [1280, 390]) {
      if (width !== 1280) {
        await page.setViewportSize({ width, height: 844 });
        await page.reload();
        await page.waitForFunction(chartsDrawn);
        await page.locator('.charts').screenshot({ path: path.join(shots, 'charts-phone.png') });
      }
      const f = await page.evaluate(chartFacts);
      // x: the window, now-24 h .. now (to the second), not the data's extent.
      expect(f.errorsX[1]! - f.errorsX[0]!).toBeCloseTo(86_400, 0);
      expect(Math.abs(f.errorsX[1]! - f.now)).toBeLessThan(60);
      expect(f.latencyX).toEqual(f.errorsX);
      // y: whole numbers, thousands grouped, the largest 5 digits, every label inside the chart.
      expect(f.errorsMax).toBe(33_333);
      expect(f.ySplits.every((v) => Number.isInteger(v))).toBe(true);
      expect(f.yLabels.every((l) => /^\d{1,3}(,\d{3})*$/.test(l))).toBe(true);
      expect(f.yLabels.some((l) => l.replace(/,/g, '').length >= 5)).toBe(true);
      expect(f.yLabelLeft).toBeGreaterThanOrEqual(0);
      expect(f.latencyLabelLeft).toBeGreaterThanOrEqual(0);
      // latency: one series per service/operation, each with its 3 buckets.
      expect([...f.latencyLabels].sort()).toEqual(operations.map((o) => `${chartService}/${o}`).sort());
      expect(f.latencyPoints).toEqual([3, 3, 3]);
    }
    expect(await page.textContent('#errors-table')).toContain('33333');
    expect(problems).toEqual([]);

    const script = await fetch(`${worker.url}/assets/dashboard.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain('window.__charts');
  }, 150_000);

  it('Alerts: lists a firing instance with its trace links, silences it, and opens a notification trace link', async () => {
    const admin = (await createKey(sql, { service: '*', scopes: ['read', 'admin'] })).key;
    const rule = `e2e-${service.toLowerCase()}`;
    // Disabled, so no evaluator run touches it: the instance is written as an evaluation would.
    await applyAlertingFile(
      sql,
      { rules: [{ name: rule, kind: 'log_threshold', window: '5m', thresholds: { critical: 1 }, enabled: false }] },
      'e2e',
    );
    await sql`
      INSERT INTO logging.alert_instances (rule, group_key, labels, state, severity, since, evaluated_at, value, threshold, samples)
      VALUES (${rule}, ${`service=${service}`}, ${JSON.stringify({ service })}::text::jsonb, 'firing', 'critical', now(), now(), 7, 1,
              ${JSON.stringify([cid])}::text::jsonb)`;
    const page = await openPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${worker.url}/`);
    await page.fill('#key', admin);
    await page.click('#save-key');
    await page.click('#alerts-refresh');
    await page.waitForSelector(`#alerts-active [data-silence="${rule}"]`);
    const row = await page.textContent('#alerts-active tbody');
    expect(row).toContain('firing / critical');
    expect(row).toContain(`service=${service}`);
    expect(row).toContain(cid);
    expect(await page.textContent('#alerts-rules tbody')).toContain(rule);
    await page.click(`#alerts-active [data-silence="${rule}"]`);
    await expect.poll(() => page.textContent(`#alerts-active [data-silence="${rule}"]`), { timeout: 60_000 }).toBe('silenced');
    const silences =
      await sql`SELECT 1 FROM logging.alert_silences WHERE matchers @> ${JSON.stringify([{ label: 'alertname', value: rule }])}::text::jsonb AND ends_at > now()`;
    expect(silences).toHaveLength(1);
    // A notification's trace link (?trace=) opens the timeline.
    await page.goto(`${worker.url}/?trace=${encodeURIComponent(cid)}`);
    await page.waitForSelector('#trace-out table');
    expect(await page.textContent('#trace-out')).toContain('3 events');
    await page.screenshot({ path: path.join(shots, 'alerts.png'), fullPage: true });
  }, 150_000);

  it('serves the pages with its own CSP and secure headers, under which an inline script is refused', async () => {
    const page = await openPage();
    const refusals: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) refusals.push(m.text());
    });
    const res = await page.goto(`${worker.url}/`);
    const headers = res!.headers();
    expect(headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(headers['access-control-allow-origin']).toBeUndefined();
    await page.addScriptTag({ content: 'globalThis.__inline = 1;' }).catch(() => undefined);
    expect(await page.evaluate(() => (globalThis as { __inline?: number }).__inline)).toBeUndefined();
    await expect.poll(() => refusals.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(refusals[0]).toMatch(/inline script/i);
  });

  it('serves the API docs page from the OpenAPI document', async () => {
    const page = await openPage();
    await page.goto(`${worker.url}/docs`);
    await page.waitForSelector('.opblock-summary-path'); // was 'h2' (the hand-written page's); Swagger UI's title is an h1
    expect(await page.textContent('#out')).toContain('/v1/logs');
  });

  it('/docs is Swagger UI, served by the Worker: the API title, its operations, and "Try it out" with a key', async () => {
    const page = await openPage({ viewport: { width: 1280, height: 900 } });
    const problems = await underStrictCsp(page, '/docs');
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(worker.url) && !r.url().startsWith('data:')) external.push(r.url());
    });
    await page.goto(`${worker.url}/docs`);
    await page.waitForSelector('.swagger-ui .info .title');
    expect(await page.textContent('.swagger-ui .info .title')).toContain('Trading log ingest');
    await page.waitForSelector('.opblock-summary-path');
    const paths = await page.locator('.opblock-summary-path').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')));
    expect(paths).toEqual(expect.arrayContaining(['/v1/ingest', '/v1/logs', '/v1/stats/latency']));
    expect(await page.evaluate(inlineCode)).toEqual({ scripts: 0, handlers: [] });

    // Authorize with the bearer key, then try GET /v1/logs.
    await page.click('.btn.authorize');
    await page.fill('#auth-bearer-value', readKey);
    await page.click('.modal-ux .auth-btn-wrapper .authorize');
    await page.click('.modal-ux .btn-done');
    await page.click('.opblock-summary-path[data-path="/v1/logs"]');
    await page.click('.opblock.is-open .try-out__btn');
    await page.click('.opblock.is-open .execute');
    await page.waitForSelector('.opblock.is-open .live-responses-table tbody .response-col_status');
    expect((await page.textContent('.opblock.is-open .live-responses-table tbody .response-col_status'))?.trim()).toBe('200');
    expect(await page.textContent('.opblock.is-open .live-responses-table')).toContain('Venue rejected ORD1');
    await page.screenshot({ path: path.join(shots, 'docs.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(external).toEqual([]);

    for (const [asset, type] of [
      ['swagger-ui-bundle.js', /^text\/javascript/],
      ['swagger-ui.css', /^text\/css/],
      ['docs.js', /^text\/javascript/],
    ] as const) {
      expect((await fetch(`${worker.url}/assets/${asset}`)).headers.get('content-type')).toMatch(type);
    }
  }, 150_000);
});
