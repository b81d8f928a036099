/** The evaluator as the schedules run it (the Workers cron, `npm run alerts -- evaluate`): outbox rows go to QStash. */
import type { Sql } from '../db/client';
import type { Settings } from '../env';
import { publishDeliveries } from '../qstash';
import { runEvaluation, type EvaluationSummary } from './evaluate';

export function evaluateAlerts(sql: Sql, settings: Settings, now: Date, publicUrl: string | undefined): Promise<EvaluationSummary> {
  const base = (publicUrl ?? settings.PUBLIC_URL ?? 'http://localhost').replace(/\/+$/, '');
  return runEvaluation(sql, {
    now,
    delaySeconds: settings.ALERT_EVALUATION_DELAY_SECONDS,
    publicUrl: base,
    budgetMs: settings.ALERT_EVALUATION_BUDGET_MS,
    leaseSeconds: settings.ALERT_LEASE_SECONDS,
    publish: settings.QSTASH_TOKEN
      ? (rows) =>
          publishDeliveries(
            settings,
            base,
            rows.map((r) => r.id),
          )
      : undefined,
  });
}

/** How stale the evaluator is: a dead-man's switch read by /health and /metrics. */
export const EVALUATOR_STALLED_AFTER_SECONDS = 180;
