/**
 * npm run bench:retention-locks [-- --rows 240000 --days 120 --reps 3 --hold-ms 1500]
 *
 * What a retention run costs ingest while a long reader holds a table the run must lock. Loads
 * `rows` system logs over `days` days (as bench:retention does) and brings retention to the steady state; then, `reps`
 * times for each reader, runs retention one day later while a reader holds the table (ACCESS
 * SHARE, for `hold-ms`) and ingest writes 50-row batches to today's partition in a loop. Prints
 * the longest batch and how many completed, per run. The readers: none; `system_logs` with all
 * its partitions (a query the planner could not prune); `system_logs` alone (a query of recent
 * days only); `archived_system_logs`.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createSql } from '../../shared/db/client';
import { startScratchDatabase } from '../../shared/dev/postgres';
import { DEFAULT_POLICY, runRetention } from '../../shared/retention';
import { holdTable } from '../node/fixtures/hold-table';
import { ingestLoop } from '../node/fixtures/ingest-loop';
import { loadSystemLogs } from './log-data';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '240000' },
    days: { type: 'string', default: '120' },
    reps: { type: 'string', default: '3' },
    'hold-ms': { type: 'string', default: '1500' },
  },
});
const ROWS = Number(values.rows);
const DAYS = Number(values.days);
const REPS = Number(values.reps);
const HOLD_MS = Number(values['hold-ms']);
const DAY_MS = 86_400_000;

const READERS = [
  { label: 'no reader', table: undefined, only: false },
  { label: 'system_logs and its partitions', table: 'system_logs', only: false },
  { label: 'system_logs alone', table: 'system_logs', only: true },
  { label: 'archived_system_logs', table: 'archived_system_logs', only: false },
] as const;

async function main() {
  console.log(`${ROWS} rows over ${DAYS} days; ${REPS} runs per reader, each reader held ${HOLD_MS} ms; ${os.cpus().length} cores`);
  const db = await startScratchDatabase('bench-retention-locks');
  const sql = createSql(db.url, { max: 4 });
  try {
    await loadSystemLogs(sql, ROWS, DAYS);
    const start = Date.now();
    // The catch-up, then a run that frees what it purged: the steady state.
    for (let i = 0; i < 2; i++) {
      const { errors } = await runRetention(sql, DEFAULT_POLICY, { now: new Date(start) });
      if (errors.length) throw new Error(`catch-up: ${errors.join('; ')}`);
    }
    let day = 0;
    const lines = new Map<string, string[]>(READERS.map((r) => [r.label, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const reader of READERS) {
        const now = new Date(start + ++day * DAY_MS);
        const held = reader.table ? await holdTable(db.url, reader.table, 'ACCESS SHARE', reader.only) : undefined;
        const released = new Promise((r) => setTimeout(r, HOLD_MS)).then(() => held?.release());
        const ingesting = ingestLoop(sql);
        const run = await runRetention(sql, DEFAULT_POLICY, { now });
        await released;
        const ingest = await ingesting.stop();
        lines
          .get(reader.label)!
          .push(
            `longest batch ${ingest.longestMs.toFixed(0)} ms, ${ingest.batches} batches, ${ingest.errors.length} failed; ` +
              `the run ${run.durationMs} ms, ${run.daysArchived.length} days moved, ${run.archivedDaysDropped.length} expired, ${run.errors.length} errors`,
          );
      }
    }
    for (const [label, runs] of lines) console.log(`reader holding ${label}:\n  ${runs.join('\n  ')}`);
  } finally {
    await sql.end();
    await db.stop();
  }
}

await main();
