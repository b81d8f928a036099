/**
 * npm run bench:alerts [-- --scale 1 --rules 200 --runs 3]
 *
 * One evaluation of `--rules` rules of mixed kinds (log threshold, latency with and without
 * week-over-week, absence, anomaly on errors and latency, pipeline) over today's 5,000,000 logs and
 * 1,000,000 metrics plus the 7 days before at a tenth of that rate (`--scale` multiplies all).
 * Reports per run the wall time, the evaluator's own CPU (what a Worker's cron would spend; the
 * queries wait on Postgres) and the database time (wall − CPU: the evaluator awaits one query at a
 * time). Ends within `--timeout-min` (default 45) whatever happens.
 */
import { parseArgs } from 'node:util';
import { applyAlertingFile, listRules, runEvaluation } from '../../shared/alerting';
import { observe } from '../../shared/alerting/observe';
import { advanceRollups } from '../../shared/alerting/rollup';
import { createSql } from '../../shared/db/client';
import { startScratchDatabase } from '../../shared/dev/postgres';
import { loadMetrics, loadSystemLogs } from './log-data';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    rules: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    'timeout-min': { type: 'string', default: '45' },
  },
});
const scale = Number(values.scale);
const ruleCount = Number(values.rules);
const runs = Number(values.runs);
setTimeout(() => {
  console.error('bench:alerts: timed out');
  process.exit(2);
}, Number(values['timeout-min']) * 60_000).unref();

const SERVICES = ['execution', 'risk_management', 'strategy_engine', 'data_ingestion', 'analytics', 'notification'];
const OPS = ['create_order', 'check_limits', 'calculate_var', 'route'];

/** Rule i of a mix: 30% log threshold, 25% latency, 15% absence, 20% anomaly, 10% pipeline. */
function rule(i: number): object {
  const service = SERVICES[i % SERVICES.length]!;
  const name = `bench-${i}`;
  const k = i % 20;
  if (k < 6)
    return k % 2
      ? {
          name,
          kind: 'log_threshold',
          filter: { level: 'ERROR' },
          window: '5m',
          groupBy: ['service'],
          thresholds: { warning: 100, critical: 1000 },
        }
      : {
          name,
          kind: 'log_threshold',
          measure: 'ratio',
          filter: { service, level: 'ERROR' },
          window: '15m',
          thresholds: { critical: 0.5 },
        };
  if (k < 11)
    return k % 2
      ? { name, kind: 'latency', filter: { service }, stat: 'p95', window: '5m', groupBy: ['operation'], thresholds: { critical: 500 } }
      : {
          name,
          kind: 'latency',
          filter: { service, operation: OPS[i % 4] },
          stat: 'avg',
          window: '10m',
          compareTo: 'week',
          thresholds: { warning: 2 },
        };
  if (k < 14) return { name, kind: 'absence', services: SERVICES, window: '5m' };
  if (k < 18)
    return k % 2
      ? { name, kind: 'anomaly', metric: 'errors', filter: { service }, window: '5m', k: 3 }
      : { name, kind: 'anomaly', metric: 'latency', filter: { service, operation: OPS[i % 4] }, stat: 'p95', window: '15m', k: 3 };
  return { name, kind: 'pipeline', metric: k % 2 ? 'dead_letters_waiting' : 'records_rejected_per_minute', thresholds: { critical: 0 } };
}

const db = await startScratchDatabase('bench-alerts');
const sql = createSql(db.url, { max: 2 });
try {
  const t0 = Date.now();
  await loadSystemLogs(sql, Math.round(5_000_000 * scale), 1);
  await loadSystemLogs(sql, Math.round(3_500_000 * scale), 7, 1);
  await loadMetrics(sql, Math.round(1_000_000 * scale), 1);
  await loadMetrics(sql, Math.round(700_000 * scale), 7, 1);
  console.log(`loaded ${(12_200_000 * scale).toLocaleString()} rows in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await applyAlertingFile(sql, { rules: Array.from({ length: ruleCount }, (_, i) => rule(i)) }, 'bench');
  const start = Math.floor(Date.now() / 60_000) * 60_000;
  // The rollups' backfill after a deploy: 8 days of minutes, once (a Worker spreads it over runs).
  const backfill = performance.now();
  const rolled = await advanceRollups(sql, new Date(start));
  console.log(`rollup backfill: ${rolled.minutes.toLocaleString()} minutes in ${((performance.now() - backfill) / 1000).toFixed(1)} s`);
  for (let r = 0; r < runs; r++) {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const s = await runEvaluation(sql, { now: new Date(start + (r + 1) * 60_000), delaySeconds: 0, publicUrl: 'http://bench' });
    const ms = performance.now() - wall;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    console.log(
      `run ${r + 1}: ${s.rules} rules, wall ${ms.toFixed(0)} ms, evaluator CPU ${cpuMs.toFixed(0)} ms, database ${(ms - cpuMs).toFixed(0)} ms, ` +
        `rollups ${s.rollupMs} ms (${s.rolledMinutes} minutes), ${s.transitions} transitions, ` +
        `${s.errors.length} errors${s.errors.length ? ` (${s.errors[0]!.error})` : ''}`,
    );
  }
  // Where the time goes: each kind's rules observed once more at the last minute.
  const at = new Date(start + runs * 60_000);
  const byKind = new Map<string, { rules: number; ms: number }>();
  for (const { rule } of await listRules(sql, true)) {
    const t = performance.now();
    await observe(sql, rule, at, () => null, []);
    const k = byKind.get(rule.kind) ?? { rules: 0, ms: 0 };
    byKind.set(rule.kind, { rules: k.rules + 1, ms: k.ms + performance.now() - t });
  }
  console.log(
    `by kind: ${[...byKind].map(([kind, k]) => `${kind} ${k.rules} rules ${k.ms.toFixed(0)} ms (${(k.ms / k.rules).toFixed(1)} ms/rule)`).join('; ')}`,
  );
} finally {
  await sql.end();
  await db.stop();
}
