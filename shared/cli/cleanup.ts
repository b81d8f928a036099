/**
 * npm run cleanup [-- --dry-run] [--now 2026-12-01T02:00:00Z]
 *
 * The daily retention job from the command line, with progress; --dry-run prints what it would do
 * and changes nothing. The policy comes from the same variables as the Worker's (RETENTION_*,
 * PARTITION_PREMAKE_DAYS; see shared/env.ts), checked the same way. Its summary, or its failure,
 * is logged into system_logs (event_type 'cleanup') like the scheduled run's; the summary is
 * printed as JSON on the last line. Exits 1 when the run had errors or failed.
 */
import { parseArgs } from 'node:util';
import { createSql, releaseSql } from '../db/client';
import { parseConfig, RetentionSettingsSchema, type RetentionSettings } from '../env';
import { retentionPolicy, runRetentionJob } from '../retention';
import { migrate, openDatabase } from '../dev/postgres';

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false }, now: { type: 'string' } } });
const now = values.now ? new Date(values.now) : new Date();
if (Number.isNaN(now.getTime())) fail(`--now: not a date: ${values.now}`);
let settings: RetentionSettings;
try {
  settings = parseConfig(RetentionSettingsSchema, process.env, 'configuration');
} catch (error) {
  fail((error as Error).message);
}

const db = await openDatabase();
let failed = false;
const sql = createSql(db.url, { max: 2 });
try {
  if (!process.env.DATABASE_URL) await migrate(db.url); // the embedded database is ours to keep current
  const summary = await runRetentionJob(sql, retentionPolicy(settings), {
    now,
    dryRun: values['dry-run'],
    progress: (l) => console.log(l),
    flushTimeoutMs: 5_000,
  });
  failed = summary.errors.length > 0;
  console.log(JSON.stringify(summary));
} catch (error) {
  failed = true;
  console.error((error as Error).message);
} finally {
  // Bounded: the run's own queries are settled by now; what may be left is a delivery of its log
  // records that missed the logging's deadline, and against an unreachable database postgres.js's
  // end() would wait for it forever.
  await releaseSql(sql, 1);
  await db.stop();
}
process.exit(failed ? 1 : 0);
