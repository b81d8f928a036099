import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { get, makeKey, postIngest, testSql, uniqueService } from './helpers';

const sql = testSql();
afterAll(() => sql.end());

describe('the alert evaluator on the Worker', () => {
  it('runs on the every-minute cron trigger and records the minute it evaluated', async () => {
    const scheduledTime = Date.now();
    const controller = createScheduledController({ cron: '* * * * *', scheduledTime });
    const ctx = createExecutionContext();
    worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    const minute = new Date(Math.floor((scheduledTime - 15_000) / 60_000) * 60_000);
    const [row] = await sql<{ status: string }[]>`SELECT status FROM logging.alert_evaluations WHERE minute = ${minute}`;
    expect(row?.status).toBe('ok');
    const health = (await (await get('/health')).json()) as { alerts: { stalled: boolean; lastEvaluatedMinute: string } };
    expect(health.alerts).toMatchObject({ stalled: false, lastEvaluatedMinute: minute.toISOString() });
  });
});

describe('GET /metrics', () => {
  it('exposes the pipeline counters in the Prometheus text format to read keys, and counts ingest per minute', async () => {
    const service = uniqueService('metrics');
    const ingest = await makeKey(service);
    const res = await postIngest(
      {
        logs: [
          { service, level: 'INFO', message: 'ok' },
          { service, level: 'LOUD', message: 'bad' },
        ],
      },
      { key: ingest },
    );
    expect(res.status).toBe(200);
    const counted = async () =>
      (
        await sql<{ accepted: number; rejected: number }[]>`
        SELECT coalesce(sum(accepted), 0)::int AS accepted, coalesce(sum(rejected), 0)::int AS rejected
        FROM logging.ingest_counters WHERE minute >= now() - interval '2 minutes'`
      )[0]!;
    // Other test files ingest too: wait for both counts (the rejected one is this test's alone).
    let seen = await counted();
    for (let i = 0; i < 50 && (seen.accepted < 1 || seen.rejected < 1); i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await counted();
    }
    expect(seen.accepted).toBeGreaterThanOrEqual(1);
    expect(seen.rejected).toBeGreaterThanOrEqual(1);
    expect((await get('/metrics', { authorization: `Bearer ${ingest}` })).status).toBe(403);
    const read = await makeKey('*', ['read']);
    const metrics = await get('/metrics', { authorization: `Bearer ${read}` });
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^# TYPE log_ingest_dead_letters_waiting gauge$/m);
    expect(text).toMatch(/^log_ingest_records_accepted_per_minute \d+$/m);
    expect(text).toMatch(/^log_ingest_evaluator_lag_seconds [\d.]+$/m);
  });
});
