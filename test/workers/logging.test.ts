import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { createLogging, HttpSink, withCorrelation } from '../../shared/logging';
import { makeKey, testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());

describe('the logging library inside workerd', () => {
  it('ships gzip batches to the ingest route with the Worker pattern ctx.waitUntil(logging.flush())', async () => {
    const service = uniqueService('notification');
    const key = await makeKey(service);
    const logging = createLogging({
      sink: new HttpSink({
        endpoint: 'http://logs.test',
        apiKey: key,
        fetch: (input, init) => exports.default.fetch(new Request(input, init)),
      }),
      env: {},
      console: false,
    });
    const logger = logging.getServiceLogger(service);
    await withCorrelation('alert-42', async () => {
      logger.info('Alert sent', { channel: 'email', recipients: 3 });
      logger.metric('send_alert', 12.5);
    });
    const ctx = createExecutionContext();
    ctx.waitUntil(logging.flush());
    await waitOnExecutionContext(ctx);
    const rows = await sql`SELECT level, message, data, correlation_id FROM logging.system_logs WHERE service = ${service}`;
    expect(rows).toEqual([{ level: 'INFO', message: 'Alert sent', data: { channel: 'email', recipients: 3 }, correlation_id: 'alert-42' }]);
    const metrics = await sql`SELECT operation, correlation_id FROM logging.performance_logs WHERE service = ${service}`;
    expect(metrics).toEqual([{ operation: 'send_alert', correlation_id: 'alert-42' }]);
  });
});

describe("the service's own logs", () => {
  it('the scheduled retention job records its summary in system_logs (event_type cleanup)', async () => {
    const before = new Date();
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: '0 2 * * *', scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const rows = await sql<{ message: string; event_type: string; data: Record<string, unknown> }[]>`
      SELECT message, event_type, data FROM logging.system_logs
      WHERE service = 'log_ingest' AND message LIKE 'retention run %' AND received_at >= ${before}`;
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.event_type).toBe('cleanup');
    expect(rows[0]!.data).toHaveProperty('partitionsCreated');
    expect(rows[0]!.data).toHaveProperty('rowsPurged');
    expect(rows[0]!.data).toHaveProperty('durationMs');
  });

  it("every answer echoes X-Correlation-ID, taking the caller's when given", async () => {
    const given = await exports.default.fetch(new Request('http://logs.test/health', { headers: { 'X-Correlation-ID': 'trade-5' } }));
    expect(given.headers.get('x-correlation-id')).toBe('trade-5');
    const made = await exports.default.fetch(new Request('http://logs.test/health'));
    expect(made.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
