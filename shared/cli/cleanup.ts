/**
 * npm run cleanup [-- --dry-run] [--now 2026-12-01T02:00:00Z]
 *
 * The daily retention job from the command line, with progress; --dry-run prints what it would do
 * and changes nothing. Its summary is logged into system_logs (event_type 'cleanup') like the
 * scheduled run's, and printed as JSON on the last line.
 */
import { parseArgs } from 'node:util';
import { createSql } from '../db/client';
import { createServiceLogging } from '../db/service-logging';
import { DEFAULT_POLICY, logSummary, runRetention, type RetentionPolicy } from '../retention';
import { migrate, openDatabase } from './database';

const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false }, now: { type: 'string' } } });

function policyFromEnv(): RetentionPolicy {
  const n = (name: string, d: number) => (process.env[name] ? Number(process.env[name]) : d);
  return {
    archiveAfterDays: n('RETENTION_ARCHIVE_AFTER_DAYS', DEFAULT_POLICY.archiveAfterDays),
    systemLogsDays: n('RETENTION_SYSTEM_LOGS_DAYS', DEFAULT_POLICY.systemLogsDays),
    performanceLogsDays: n('RETENTION_PERFORMANCE_LOGS_DAYS', DEFAULT_POLICY.performanceLogsDays),
    errorLogsDays: n('RETENTION_ERROR_LOGS_DAYS', DEFAULT_POLICY.errorLogsDays),
    tradingLogsDays: n('RETENTION_TRADING_LOGS_DAYS', DEFAULT_POLICY.tradingLogsDays),
    premakeDays: n('PARTITION_PREMAKE_DAYS', DEFAULT_POLICY.premakeDays),
  };
}

const db = await openDatabase();
if (!process.env.DATABASE_URL) await migrate(db.url); // the embedded database is ours to keep current
const sql = createSql(db.url, { max: 2 });
let failed = false;
try {
  const now = values.now ? new Date(values.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new Error(`--now: not a date: ${values.now}`);
  const summary = await runRetention(sql, policyFromEnv(), { now, dryRun: values['dry-run'], progress: (l) => console.log(l) });
  if (!summary.dryRun) {
    const logging = createServiceLogging(sql);
    logSummary(logging.getServiceLogger('log_ingest').withEventType('cleanup'), summary);
    await logging.flush({ timeoutMs: 10_000 });
  }
  failed = summary.errors.length > 0;
  console.log(JSON.stringify(summary));
} catch (error) {
  failed = true;
  console.error((error as Error).message);
} finally {
  await sql.end();
  await db.stop();
}
process.exit(failed ? 1 : 0);
