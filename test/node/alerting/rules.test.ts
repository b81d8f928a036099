/**
 * Each rule kind fires and resolves on controlled data with a controlled clock, against a real
 * Postgres of its own (the evaluator's minutes are global, so this file does not share them).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyAlertingFile,
  createSilence,
  InvalidAlertingFileError,
  listHistory,
  listInstances,
  previewRule,
  RuleSchema,
  runEvaluation,
  type EvaluationSummary,
} from '../../../shared/alerting';
import { createSql, type Sql } from '../../../shared/db/client';
import { startScratchDatabase, type Database } from '../../../shared/dev/postgres';
import { insertBatch, type LogRow, type MetricRow } from '../../../shared/ingest';

let db: Database;
let sql: Sql;
const MIN = 60_000;
const DAY = 86_400_000;
// A Monday 15:00 UTC (10:00 in New York), a few days ahead so its day partitions exist.
const BASE = (() => {
  const d = new Date(Date.now() + 3 * DAY);
  d.setUTCHours(15, 0, 0, 0);
  while (d.getUTCDay() !== 1) d.setTime(d.getTime() + DAY);
  return d.getTime();
})();
let day = 0;

beforeAll(async () => {
  db = await startScratchDatabase('alerting-rules');
  sql = createSql(db.url, { max: 4 });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await db?.stop();
});

/** Each test gets its own day (the evaluator never goes back in time). */
function clock() {
  const start = BASE + day++ * 8 * DAY;
  return (minutes: number) => new Date(start + minutes * MIN);
}

function log(service: string, at: Date, level = 'ERROR', extra: Partial<LogRow> = {}): LogRow {
  return {
    id: crypto.randomUUID(),
    service,
    level,
    message: 'order rejected',
    data: null,
    correlation_id: `trade-${crypto.randomUUID().slice(0, 8)}`,
    event_type: null,
    timestamp: at.toISOString(),
    ...extra,
  };
}

function metric(service: string, operation: string, at: Date, ms: number): MetricRow {
  return {
    id: crypto.randomUUID(),
    service,
    operation,
    execution_time_ms: ms,
    memory_usage_mb: null,
    cpu_usage_percent: null,
    correlation_id: `trade-${crypto.randomUUID().slice(0, 8)}`,
    data: null,
    timestamp: at.toISOString(),
  };
}

async function evaluate(now: Date): Promise<EvaluationSummary> {
  const s = await runEvaluation(sql, { now, delaySeconds: 0, publicUrl: 'http://logs.test' });
  expect(s.skipped).toBeUndefined();
  expect(s.errors).toEqual([]);
  return s;
}

/** The rule's instances that are not Normal, by group. */
async function stateOf(rule: string) {
  return Object.fromEntries(
    (await listInstances(sql, { rules: [rule] }))
      .filter((i) => i.state !== 'normal')
      .map((i) => [i.groupKey, `${i.state}${i.severity ? `/${i.severity}` : ''}`]),
  );
}

async function apply(rules: unknown[], contactPoints: unknown[] = []) {
  await applyAlertingFile(sql, { rules, contactPoints }, 'test');
}

async function outbox(rule: string) {
  return sql<
    { payload: { status: string; alerts: { status: string; labels: Record<string, string>; samples: unknown[]; value: number }[] } }[]
  >`
    SELECT payload FROM logging.alert_notifications WHERE rule = ${rule} ORDER BY created_at`;
}

describe('log threshold rules', () => {
  it('fire per group with per-group overrides, carry samples, and resolve', async () => {
    const t = clock();
    const a = `exec_a_${day}`;
    const b = `exec_b_${day}`;
    await apply(
      [
        {
          name: `errors-${day}`,
          kind: 'log_threshold',
          filter: { level: 'ERROR' },
          window: '5m',
          groupBy: ['service'],
          thresholds: { warning: 3, critical: 10 },
          overrides: [{ match: { service: b }, thresholds: { critical: 50 } }],
          groupInterval: '0m',
          contactPoints: ['hook'],
        },
      ],
      [{ name: 'hook', kind: 'webhook', url: 'http://127.0.0.1:9/hook', secret: `whsec_${btoa('0123456789abcdef01234567')}` }],
    );
    const rows = [...Array.from({ length: 12 }, () => log(a, t(-2))), ...Array.from({ length: 12 }, () => log(b, t(-2)))];
    await insertBatch(sql, rows, []);
    await evaluate(t(0));
    expect(await stateOf(`errors-${day}`)).toEqual({ [`service=${a}`]: 'firing/critical' });
    const [first] = await outbox(`errors-${day}`);
    expect(first!.payload.alerts).toHaveLength(1);
    expect(first!.payload.alerts[0]!.labels).toMatchObject({ alertname: `errors-${day}`, service: a, severity: 'critical' });
    expect(first!.payload.alerts[0]!.samples).toHaveLength(5);
    await evaluate(t(6)); // the errors are out of the window: the group is gone, once
    expect(await stateOf(`errors-${day}`)).toEqual({ [`service=${a}`]: 'firing/critical' });
    await evaluate(t(7)); // gone twice: resolved
    expect(await stateOf(`errors-${day}`)).toEqual({});
    const [, resolved] = await outbox(`errors-${day}`);
    expect(resolved!.payload.status).toBe('resolved');
  });

  it('compares the ratio to all logs of the service', async () => {
    const t = clock();
    const svc = `ratio_${day}`;
    await apply([
      {
        name: `ratio-${day}`,
        kind: 'log_threshold',
        measure: 'ratio',
        filter: { service: svc, level: 'ERROR' },
        window: '5m',
        thresholds: { critical: 0.2 },
      },
    ]);
    await insertBatch(sql, [...Array.from({ length: 8 }, () => log(svc, t(-1), 'INFO')), log(svc, t(-1))], []);
    await evaluate(t(0));
    expect(await stateOf(`ratio-${day}`)).toEqual({});
    await insertBatch(
      sql,
      Array.from({ length: 3 }, () => log(svc, t(0))),
      [],
    );
    await evaluate(t(1));
    const [i] = await listInstances(sql, { rules: [`ratio-${day}`] });
    expect(i!.state).toBe('firing');
    expect(i!.value).toBeCloseTo(4 / 12, 5);
  });
});

describe('latency rules', () => {
  it('fire on an absolute p95 and on a week-over-week ratio', async () => {
    const t = clock();
    const svc = `risk_${day}`;
    await apply([
      {
        name: `p95-${day}`,
        kind: 'latency',
        filter: { service: svc },
        stat: 'p95',
        window: '5m',
        groupBy: ['operation'],
        thresholds: { critical: 100 },
      },
      {
        name: `wow-${day}`,
        kind: 'latency',
        filter: { service: svc },
        stat: 'avg',
        window: '5m',
        compareTo: 'week',
        thresholds: { warning: 1.5 },
      },
    ]);
    const week = Array.from({ length: 20 }, (_, i) => metric(svc, 'check_limits', new Date(t(-2).getTime() - 7 * DAY + i), 20));
    const now = Array.from({ length: 20 }, (_, i) => metric(svc, i < 10 ? 'check_limits' : 'var', t(-2), i < 10 ? 40 : 150));
    await insertBatch(sql, [], [...week, ...now]);
    await evaluate(t(0));
    expect(await stateOf(`p95-${day}`)).toEqual({ 'operation=var': 'firing/critical' });
    const [wow] = await listInstances(sql, { rules: [`wow-${day}`] });
    expect(wow!.state).toBe('firing');
    expect(wow!.value).toBeCloseTo(95 / 20, 5);
  });
});

describe('absence rules', () => {
  it('fire when a listed service goes quiet inside trading hours only, and resolve when it logs again', async () => {
    const t = clock(); // 10:00 New York on a Monday
    const svc = `md_${day}`;
    await apply([
      {
        name: `heartbeat-${day}`,
        kind: 'absence',
        services: [svc],
        window: '10m',
        schedule: { timezone: 'America/New_York', days: [1, 2, 3, 4, 5], start: '09:30', end: '16:00' },
      },
    ]);
    await insertBatch(sql, [log(svc, t(-30), 'INFO')], []);
    await evaluate(t(-25)); // 09:35: open for 5 min, silent 5 min
    expect(await stateOf(`heartbeat-${day}`)).toEqual({});
    await evaluate(t(0)); // silent 30 min
    expect(await stateOf(`heartbeat-${day}`)).toEqual({ [`service=${svc}`]: 'firing/critical' });
    await insertBatch(sql, [log(svc, t(1), 'INFO')], []);
    await evaluate(t(2));
    expect(await stateOf(`heartbeat-${day}`)).toEqual({});
    await evaluate(t(7 * 60)); // 17:00: closed, however long it is quiet
    expect(await stateOf(`heartbeat-${day}`)).toEqual({});
  });
});

describe('anomaly rules', () => {
  it('flag an error burst against the trailing day, but not the same burst that happens every day at this time', async () => {
    const t = clock();
    const svc = `strat_${day}`;
    const rule = { kind: 'anomaly', metric: 'errors', filter: { service: svc }, window: '5m', k: 3, criticalK: 6, minDeviation: 2 };
    const seasonal = `${svc}_daily`;
    await apply([
      { name: `anomaly-${day}`, ...rule },
      { name: `anomaly-${day}-daily`, ...rule, filter: { service: seasonal } },
    ]);
    // 2 errors in every 5-minute bucket of the trailing day, then 30 now.
    const history: LogRow[] = [];
    for (let m = 5; m <= 24 * 60; m += 5) history.push(log(svc, t(-m + 1)), log(svc, t(-m + 2)));
    await insertBatch(sql, history, []);
    await insertBatch(
      sql,
      Array.from({ length: 30 }, () => log(svc, t(-1))),
      [],
    );
    // A second service with the same burst yesterday at this time: the seasonal band covers it.
    const daily: LogRow[] = [];
    for (let m = 5; m <= 24 * 60; m += 5) daily.push(log(seasonal, t(-m + 2)), log(seasonal, t(-m + 3)));
    daily.push(...Array.from({ length: 30 }, () => log(seasonal, new Date(t(0).getTime() - DAY))));
    await insertBatch(sql, daily, []);
    await evaluate(t(0));
    const [i] = await listInstances(sql, { rules: [`anomaly-${day}`] });
    expect(i).toMatchObject({ state: 'firing', severity: 'critical', value: 32 }); // the burst and the bucket's usual 2
    await insertBatch(
      sql,
      Array.from({ length: 30 }, () => log(seasonal, t(0))),
      [],
    );
    await evaluate(t(1));
    expect(await stateOf(`anomaly-${day}-daily`)).toEqual({});
  });
});

describe('pipeline rules', () => {
  it("fire on the pipeline's own health (dead letters waiting) and resolve when it recovers", async () => {
    const t = clock();
    await apply([{ name: `pipeline-${day}`, kind: 'pipeline', metric: 'dead_letters_waiting', thresholds: { critical: 0 } }]);
    const [dl] = await sql<{ id: number }[]>`
      INSERT INTO logging.dead_letters (kind, payload, reason) VALUES ('unstorable', '{}', 'test') RETURNING id::int`;
    await evaluate(t(0));
    const [i] = await listInstances(sql, { rules: [`pipeline-${day}`] });
    expect(i).toMatchObject({ state: 'firing', severity: 'critical', value: 1 });
    await sql`UPDATE logging.dead_letters SET replayed_at = now() WHERE id = ${dl!.id}`;
    await evaluate(t(1));
    expect(await stateOf(`pipeline-${day}`)).toEqual({});
  });
});

describe('flapping, silences and gaps', () => {
  it('sends at most one notification per group interval for a value oscillating around the threshold', async () => {
    const t = clock();
    const svc = `flap_${day}`;
    await apply(
      [
        {
          name: `flap-${day}`,
          kind: 'log_threshold',
          filter: { service: svc },
          window: '1m',
          thresholds: { critical: 2 },
          groupInterval: '5m',
          contactPoints: ['slack'],
        },
      ],
      [{ name: 'slack', kind: 'slack', url: 'http://127.0.0.1:9/slack' }],
    );
    for (let m = 0; m < 20; m++) {
      if (m % 2 === 0)
        await insertBatch(
          sql,
          Array.from({ length: 5 }, () => log(svc, t(m - 1))),
          [],
        );
      await evaluate(t(m));
    }
    const history = await listHistory(sql, { rule: `flap-${day}`, limit: 100 });
    expect(history.length).toBeGreaterThanOrEqual(19); // every minute changed state
    expect((await outbox(`flap-${day}`)).length).toBeLessThanOrEqual(4); // 20 minutes / 5-minute group interval
  });

  it('keeps the history of a silenced rule but sends nothing', async () => {
    const t = clock();
    const svc = `quiet_${day}`;
    await apply(
      [
        {
          name: `silenced-${day}`,
          kind: 'log_threshold',
          filter: { service: svc },
          window: '5m',
          thresholds: { critical: 1 },
          contactPoints: ['slack'],
        },
      ],
      [{ name: 'slack', kind: 'slack', url: 'http://127.0.0.1:9/slack' }],
    );
    await createSilence(sql, {
      matchers: [{ label: 'alertname', value: `silenced-${day}`, op: '=' }],
      startsAt: t(-60),
      endsAt: t(30),
      comment: 'maintenance',
      createdBy: 'test',
    });
    await insertBatch(
      sql,
      Array.from({ length: 3 }, () => log(svc, t(-1))),
      [],
    );
    await evaluate(t(0));
    expect(await stateOf(`silenced-${day}`)).toEqual({ '': 'firing/critical' });
    const [h] = await listHistory(sql, { rule: `silenced-${day}`, limit: 10 });
    expect(h).toMatchObject({ to_state: 'firing', silenced: true });
    expect(await outbox(`silenced-${day}`)).toHaveLength(0);
  });

  it('holds notifications inside a mute timing (outside trading hours) and sends once it ends', async () => {
    const t = clock(); // 10:00 New York: inside trading hours
    const svc = `night_${day}`;
    await applyAlertingFile(
      sql,
      {
        contactPoints: [{ name: 'slack', kind: 'slack', url: 'http://127.0.0.1:9/slack' }],
        muteTimings: [
          {
            name: 'closed',
            timezone: 'America/New_York',
            intervals: [
              { start: '00:00', end: '09:30' },
              { start: '16:00', end: '24:00' },
            ],
          },
        ],
        rules: [
          {
            name: `muted-${day}`,
            kind: 'log_threshold',
            filter: { service: svc },
            window: '1m',
            thresholds: { critical: 1 },
            contactPoints: ['slack'],
            muteTimings: ['closed'],
          },
        ],
      },
      'test',
    );
    await insertBatch(
      sql,
      Array.from({ length: 3 }, () => log(svc, t(-61))),
      [],
    ); // 08:59
    await evaluate(t(-60)); // 09:00: muted
    expect(await stateOf(`muted-${day}`)).toEqual({ '': 'firing/critical' });
    expect(await outbox(`muted-${day}`)).toHaveLength(0);
    expect((await listHistory(sql, { rule: `muted-${day}`, limit: 1 }))[0]).toMatchObject({ to_state: 'firing', silenced: true });
    await insertBatch(
      sql,
      Array.from({ length: 3 }, () => log(svc, t(-31))),
      [],
    );
    await evaluate(t(-30)); // 09:30: open, still firing: now it is sent
    expect(await outbox(`muted-${day}`)).toHaveLength(1);
  });

  it('after a gap evaluates the current minute only and records the skipped ones', async () => {
    const t = clock();
    await evaluate(t(0));
    const s = await evaluate(t(10));
    expect(s.skippedMinutes).toBe(9);
    const late = await runEvaluation(sql, { now: t(5), delaySeconds: 0, publicUrl: 'http://logs.test' });
    expect(late.skipped).toBe('already evaluated');
  });

  it('lets only one of two overlapping runs evaluate', async () => {
    const t = clock();
    const [x, y] = await Promise.all(
      [t(0), t(0)].map((now) => runEvaluation(sql, { now, delaySeconds: 0, publicUrl: 'http://logs.test' })),
    );
    expect([x!.skipped, y!.skipped].filter((s) => s === 'lease held')).toHaveLength(1);
  });
});

describe('preview', () => {
  it('shows when an unsaved rule would have fired and resolved over the past hours, saving nothing', async () => {
    const t = clock();
    const svc = `preview_${day}`;
    await insertBatch(
      sql,
      Array.from({ length: 6 }, () => log(svc, t(-90))),
      [],
    );
    const rule = RuleSchema.parse({
      name: `preview-${day}`,
      kind: 'log_threshold',
      filter: { service: svc },
      window: '5m',
      thresholds: { critical: 5 },
    });
    const p = await previewRule(sql, rule, t(0), 2);
    expect(p.evaluations).toBe(121);
    expect(p.transitions.map((x) => [x.minute, x.to])).toEqual([
      [t(-89).toISOString(), 'firing'],
      [t(-84).toISOString(), 'normal'],
    ]);
    expect(await sql`SELECT 1 FROM logging.alert_rules WHERE name = ${rule.name}`).toHaveLength(0);
  });
});

describe('applying a file', () => {
  it("applies the README's example file", async () => {
    const example = JSON.parse(readFileSync(new URL('../../../shared/cli/alerting.example.json', import.meta.url), 'utf8'));
    expect(await applyAlertingFile(sql, example, 'test')).toEqual({ contactPoints: 2, muteTimings: 0, rules: 5 });
    await sql`UPDATE logging.alert_rules SET enabled = false WHERE name IN ('rejections', 'var-latency', 'feed-heartbeat', 'error-anomaly', 'queueing')`;
  });

  it('refuses unknown fields, bad windows, wrong types and unknown contact points, naming each, and saves nothing', async () => {
    const bad = [
      { name: 'bad-1', kind: 'log_threshold', window: '5m', thresholds: { critical: 1 }, colour: 'red' },
      { name: 'bad-2', kind: 'log_threshold', window: '5 minutes', thresholds: { critical: 1 } },
      { name: 'bad-3', kind: 'latency', window: '5m', thresholds: { critical: '100' } },
      { name: 'bad-4', kind: 'log_threshold', window: '5m', thresholds: { critical: 1 }, contactPoints: ['nowhere'] },
      { name: 'good', kind: 'log_threshold', window: '5m', thresholds: { critical: 1 } },
      { name: 'bad-5', kind: 'latency', window: '5m', groupBy: ['event_type'], thresholds: { critical: 1 } },
    ];
    const error = await applyAlertingFile(sql, { rules: bad }, 'test').catch((e) => e);
    expect(error).toBeInstanceOf(InvalidAlertingFileError);
    const paths = (error as InvalidAlertingFileError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['rules.0', 'rules.1.window', 'rules.2.thresholds.critical', 'rules.5.groupBy.0']));
    expect((await applyAlertingFile(sql, { rules: bad.slice(3, 5) }, 'test').catch((e) => e)).issues).toEqual([
      { path: 'rules.0.contactPoints.0', message: 'no contact point "nowhere"' },
    ]);
    expect(await sql`SELECT 1 FROM logging.alert_rules WHERE name IN ('good', 'bad-1', 'bad-4')`).toHaveLength(0);
  });
});
