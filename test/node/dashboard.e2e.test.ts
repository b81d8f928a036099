/**
 * The dashboard in headless Chromium (Debian's package, driven by playwright-core) against the
 * real Worker under `wrangler dev` and the real Postgres: search, a trace, the live tail.
 * Screenshots go to test/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSql } from '../../shared/db/client';
import { createKey } from '../../shared/db/keys';
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

async function ingest(logs: unknown[], metrics: unknown[] = []) {
  const res = await fetch(`${worker.url}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ logs, metrics }) });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  if (!existsSync('/usr/bin/chromium')) throw new Error('Chromium is missing: apt-get install -y chromium (.ci/run does it)');
  mkdirSync(shots, { recursive: true });
  worker = await startWorker({ port: await freePort(), databaseUrl, stdio: 'ignore' });
  readKey = (await createKey(sql, { service, scopes: ['read'] })).key;
  writeKey = (await createKey(sql, { service })).key;
  await ingest(
    [
      { service, level: 'INFO', message: 'Order ORD1 created', correlation_id: cid, data: { symbol: 'AAPL', qty: 100 }, event_type: 'trading' },
      { service, level: 'ERROR', message: 'Venue rejected ORD1', correlation_id: cid, data: { symbol: 'AAPL', reason: 'price band' } },
      { service, level: 'INFO', message: 'Heartbeat', data: { symbol: 'MSFT' } },
    ],
    [{ service, operation: 'route_order', execution_time_ms: 12.5, correlation_id: cid }],
  );
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await sql.end();
});

describe('dashboard', () => {
  it('searches, opens a trace, and shows a record ingested during the test in the live tail', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${worker.url}/`);
    await page.fill('#key', readKey);
    await page.click('#save-key');
    await page.waitForSelector('#results tbody tr.rec');
    expect(await page.locator('#results tbody tr.rec').count()).toBe(3);

    await page.fill('#search [name=data]', 'symbol=AAPL');
    await page.selectOption('#search [name=level]', 'ERROR');
    await page.click('#search button[type=submit]');
    await page.waitForFunction("document.querySelectorAll('#results tbody tr.rec').length === 1");
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
    await page.waitForFunction("document.querySelector('#tail-state').textContent === '(live)'");
    await new Promise((r) => setTimeout(r, 1500));
    await ingest([{ service, level: 'WARNING', message: 'Live: position limit near', data: { pct: 93 } }]);
    await page.waitForFunction("document.querySelector('#tail tbody').textContent.includes('Live: position limit near')", null, { timeout: 15_000 });
    await page.click('#tail-toggle');
    expect(await page.textContent('#tail-state')).toBe('(paused)');
    await page.screenshot({ path: path.join(shots, 'tail.png'), fullPage: true });

    // Charts drew (uPlot canvases), and a phone-sized screen still shows the page without overflow.
    expect(await page.locator('#errors-chart canvas').count()).toBeGreaterThan(0);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.waitForSelector('#results tbody tr.rec');
    await page.waitForSelector('#errors-chart canvas');
    await page.screenshot({ path: path.join(shots, 'phone.png'), fullPage: true });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
  }, 90_000);

  it('serves the API docs page from the OpenAPI document', async () => {
    const page = await browser.newPage();
    await page.goto(`${worker.url}/docs`);
    await page.waitForSelector('h2');
    expect(await page.textContent('#out')).toContain('/v1/logs');
  });
});
