/**
 * The scheduled jobs, written once for every host: each runs on a client the host gives it and
 * reports its outcome on the console (retention also logs its summary into system_logs). The
 * schedules are SCHEDULES in shared/env.ts; the Worker's cron triggers, Deno.cron and the Node
 * host's croner all fire `runJob`.
 */
import { evaluateAlerts } from '../shared/alerting';
import type { Sql } from '../shared/db/client';
import { SCHEDULES, type Settings } from '../shared/env';
import { retentionPolicy, runRetentionJob } from '../shared/retention';

export type JobName = keyof typeof SCHEDULES;

/** Retention and partition upkeep for `now`'s day. Throws what the job could not do. */
async function retention(sql: Sql, settings: Settings, now: Date): Promise<void> {
  await runRetentionJob(sql, retentionPolicy(settings), { now, flushTimeoutMs: 5_000 });
}

/** One alert evaluation for the minute before `now`; its rule errors are reported, not thrown. */
async function alerts(sql: Sql, settings: Settings, now: Date): Promise<void> {
  const summary = await evaluateAlerts(sql, settings, now, settings.PUBLIC_URL);
  if (summary.errors.length) console.error(JSON.stringify({ level: 'ERROR', event: 'alert_evaluation', ...summary }));
}

const JOBS: Record<JobName, (sql: Sql, settings: Settings, now: Date) => Promise<void>> = { retention, alerts };

/** The job of a cron expression, or undefined for one this service does not know. */
export function jobOf(cron: string): JobName | undefined {
  return (Object.keys(SCHEDULES) as JobName[]).find((name) => SCHEDULES[name] === cron);
}

/** Runs one job; a failure goes to the console (a scheduler has nobody else to tell) and never throws. */
export async function runJob(name: JobName, sql: Sql, settings: Settings, now: Date): Promise<void> {
  try {
    await JOBS[name](sql, settings, now);
  } catch (error) {
    console.error(JSON.stringify({ level: 'ERROR', event: `${name}_failed`, error: String(error) }));
  }
}
