/**
 * npm run bench:retention [-- --rows 5000000 --days 120 --scales 0.1,1,4 --kept 4 --daily 14]
 *
 * Scenarios: for each of `scales`, rows×scale system logs over `days` days (so 4× the rows a day;
 * 0.1× shows what a run costs when its day is small: the same partitions, a tenth of the rows);
 * for each of `kept`, rows×k over days×k with every retention k times as long (the same rows a
 * day, a table k times as large: what "flat in table size" is about). 10% ERROR/CRITICAL, 5%
 * trading. Each is brought to the steady state (a first run archives what is past the active days
 * and purges what is past the longest retention). Then times `daily` daily runs, the clock one day
 * on each time (one day archived, one archived day purged, the partitions the run before purged
 * freed; every seventh also premakes a week of partitions), two ways on the same data: by
 * partitions (ours) and the seed's way (INSERT INTO archive … SELECT, then DELETE in batches of 1,000 rows;
 * its two forms of batch, as planned and oldest first by the index, take turns day by day; after
 * each, the VACUUM its DELETE leaves for later is timed apart).
 * Each scenario has a server of its own, VACUUMed after the catch-ups. Every timed run starts from
 * a CHECKPOINT, as a daily job does in production. Prints both, the
 * ratios (of the median runs, and of the means with the premaking days), at each scale.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createSql, type Sql } from '../../shared/db/client';
import { startScratchDatabase } from '../../shared/dev/postgres';
import { DEFAULT_POLICY, runRetention, type RetentionPolicy } from '../../shared/retention';
import { loadSystemLogs } from './log-data';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    days: { type: 'string', default: '120' },
    scales: { type: 'string', default: '0.1,1,4' },
    kept: { type: 'string', default: '4' },
    daily: { type: 'string', default: '14' },
  },
});
const ROWS = Number(values.rows);
const DAYS = Number(values.days);
const list = (v: string | undefined) => (v ? v.split(',').map(Number) : []);

/** A data set: `rows` over `days`, under the default policy with every retention `kept` times as long. */
interface Scenario {
  label: string;
  rows: number;
  days: number;
  kept: number;
}
const SCENARIOS: Scenario[] = [
  ...list(values.scales).map((x) => ({ label: `${x}× rows a day`, rows: ROWS * x, days: DAYS, kept: 1 })),
  ...list(values.kept).map((k) => ({ label: `${k}× days kept`, rows: ROWS * k, days: DAYS * k, kept: k })),
];
const NOW = new Date();
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const DAILY = Number(values.daily); // daily runs timed after the catch-up (every 7th also premakes)
// The seed's two batch forms take turns day by day: each needs a day of its own.
if (!(DAILY >= 2)) throw new Error(`--daily: at least 2 (got ${values.daily})`);

/**
 * How the seed's way picks each batch of 1,000 rows to delete. 'planner': `WHERE "timestamp" < $1
 * LIMIT 1000`, as written most simply; the planner takes a sequential scan, which reads again, for
 * every batch, the pages the batches before emptied. 'index': the same `ORDER BY "timestamp"`,
 * oldest first down the timestamp index: the cheapest form of the seed's way.
 */
type BatchForm = 'planner' | 'index';

/** The seed's way, as a daily run at `now`: archive what crossed the active days, then delete 1,000 rows at a time. */
async function baselineRun(sql: Sql, now: Date, policy: RetentionPolicy, form: BatchForm = 'planner'): Promise<number> {
  const cutoff = new Date(now.getTime() - policy.archiveAfterDays * 86_400_000);
  const expire = new Date(now.getTime() - policy.errorLogsDays * 86_400_000);
  const order = form === 'index' ? 'ORDER BY "timestamp"' : '';
  const t0 = performance.now();
  await sql`INSERT INTO logging.baseline_archive SELECT * FROM logging.baseline_logs
            WHERE "timestamp" < ${cutoff} AND "timestamp" >= ${expire} AND (level IN ('ERROR', 'CRITICAL') OR event_type = 'trading')
            ON CONFLICT DO NOTHING`;
  for (const [table, before] of [
    ['baseline_archive', expire],
    ['baseline_logs', cutoff],
  ] as const) {
    for (;;) {
      const r = await sql.unsafe(
        // By ctid: a batch is deleted by a TID scan, whatever plan the planner would pick for a key lookup.
        `DELETE FROM logging.${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM logging.${table} WHERE "timestamp" < $1 ${order} LIMIT 1000))`,
        [before.toISOString()],
      );
      if (r.count === 0) break;
    }
  }
  return performance.now() - t0;
}

/**
 * What the seed's way leaves for later: its DELETE only marks rows dead; VACUUM takes them out of
 * every index and makes their space reusable (ours has handed the files back within its run).
 */
async function baselineVacuum(sql: Sql): Promise<number> {
  const t0 = performance.now();
  await sql`VACUUM logging.baseline_logs, logging.baseline_archive`;
  return performance.now() - t0;
}

/** The seed's tables (plain, with the seed's indexes), holding the same rows. */
async function baselineTables(sql: Sql) {
  await sql.unsafe(`DROP TABLE IF EXISTS logging.baseline_logs, logging.baseline_archive`);
  await sql.unsafe(
    `CREATE TABLE logging.baseline_logs AS SELECT id, service, level, message, data, correlation_id, event_type, "timestamp", received_at FROM logging.system_logs`,
  );
  await sql.unsafe(`ALTER TABLE logging.baseline_logs ADD PRIMARY KEY (id, "timestamp")`);
  for (const cols of ['"timestamp"', 'service', 'level', 'correlation_id', 'event_type', 'service, "timestamp"']) {
    await sql.unsafe(`CREATE INDEX ON logging.baseline_logs (${cols})`);
  }
  await sql.unsafe(`CREATE TABLE logging.baseline_archive (LIKE logging.baseline_logs INCLUDING ALL)`);
  await sql`VACUUM (ANALYZE) logging.baseline_logs`;
}

/**
 * What freeing that much disk costs here on its own: DROP of a bare table of `bytes` (no indexes,
 * no partitions), from a CHECKPOINT; the median of 5. The part of a run no partition layout avoids.
 */
async function dropFloor(sql: Sql, bytes: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sql.unsafe(
      `CREATE TABLE logging.bench_floor AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, ${Math.round(bytes / 250)}) AS g`,
    );
    await sql`CHECKPOINT`;
    const t = performance.now();
    await sql`DROP TABLE logging.bench_floor`;
    times.push(performance.now() - t);
  }
  return median(times);
}

async function main() {
  console.log(`${SCENARIOS.length} scenarios, ${DAILY} daily runs each; ${os.cpus().length} cores`);
  const DAY = 86_400_000;
  const results: {
    scenario: Scenario;
    stored: number;
    ours: number;
    seeds: number;
    seedsBest: number;
    vacuum: number;
    freed: number;
    floor: number;
  }[] = [];
  for (const scenario of SCENARIOS) {
    // A server of its own per data set: the catalogs of one (thousands of partitions made and
    // dropped) would otherwise be the next one's, and DETACH and ATTACH scan pg_constraint whole.
    const db = await startScratchDatabase('bench-retention');
    const sql = createSql(db.url, { max: 2 });
    try {
      const { rows, days, kept } = scenario;
      const policy: RetentionPolicy = {
        ...DEFAULT_POLICY,
        archiveAfterDays: DEFAULT_POLICY.archiveAfterDays * kept,
        systemLogsDays: DEFAULT_POLICY.systemLogsDays * kept,
        performanceLogsDays: DEFAULT_POLICY.performanceLogsDays * kept,
        errorLogsDays: DEFAULT_POLICY.errorLogsDays * kept,
        tradingLogsDays: DEFAULT_POLICY.tradingLogsDays * kept,
      };
      let t = performance.now();
      await loadSystemLogs(sql, rows, days);
      await baselineTables(sql);
      console.log(
        `${scenario.label}: ${rows} rows over ${days} days, active ${policy.archiveAfterDays} days, archived to ${policy.errorLogsDays}; ` +
          `loaded (and copied into the seed's plain tables) in ${s(performance.now() - t)}`,
      );
      // Steady state: both ways catch up once (timed, for the record), then the next day is timed.
      // Ours catches up at the day before and frees what that purged in the run of the day itself
      // (a run frees the partitions the run before it purged), so the daily runs below start as
      // every later one does: with one day's purged partitions to free. Each timed run starts from
      // a checkpoint, so neither way pays for the writes of what ran before it.
      await sql`CHECKPOINT`;
      t = performance.now();
      const catchUp = await runRetention(sql, policy, { now: new Date(NOW.getTime() - DAY) });
      const settle = await runRetention(sql, policy, { now: NOW });
      const catchUpMs = performance.now() - t;
      await sql`CHECKPOINT`;
      const baseCatchUp = await baselineRun(sql, NOW, policy);
      // The catch-ups leave dead rows behind, in the catalogs (ours: hundreds of partitions made and
      // purged) and in the seed's tables (most of their rows deleted): VACUUM, as autovacuum would
      // long before the next day, rather than let it start in the middle of a timed run.
      await sql`VACUUM`;
      console.log(
        `  first run (catch-up: ${catchUp.daysArchived.length + settle.daysArchived.length} days archived, ` +
          `${catchUp.partitionsDropped + settle.partitionsDropped} partitions purged, ${mb(settle.bytesFreed)} freed): ours ${s(catchUpMs)}, seed's way ${s(baseCatchUp)}`,
      );
      // Daily runs, the clock one day on each time: six in seven only move and drop days, the
      // seventh also tops up the premade partitions.
      const ours: number[] = [];
      const seeds: number[] = [];
      const seedsIndexed: number[] = [];
      const vacuums: number[] = [];
      const freed: number[] = [];
      for (let k = 1; k <= DAILY; k++) {
        const at = new Date(NOW.getTime() + k * DAY);
        await sql`CHECKPOINT`;
        t = performance.now();
        const daily = await runRetention(sql, policy, { now: at });
        ours.push(performance.now() - t);
        await sql`CHECKPOINT`;
        // The two forms of the seed's batches take turns: each leaves the tables as the other would.
        const form: BatchForm = k % 2 ? 'planner' : 'index';
        const seed = await baselineRun(sql, at, policy, form);
        (form === 'planner' ? seeds : seedsIndexed).push(seed);
        await sql`CHECKPOINT`;
        vacuums.push(await baselineVacuum(sql));
        if (daily.errors.length) throw new Error(daily.errors.join('; '));
        freed.push(daily.bytesFreed);
        console.log(
          `  day +${k}: ours ${ms(ours.at(-1)!)} (${daily.daysArchived.length} day archived, ${daily.rowsKept.total} rows kept, ${daily.partitionsDropped} partitions purged, ${mb(daily.bytesFreed)} freed, ${daily.partitionsCreated} created), seed's way (${form}) ${s(seed)}, then its VACUUM ${s(vacuums.at(-1)!)}`,
        );
      }
      const [size] = await sql<{ n: number; tables: number; constraints: number }[]>`
        SELECT (SELECT count(*) FROM logging.system_logs)::int + (SELECT count(*) FROM logging.archived_system_logs)::int AS n,
               (SELECT count(*) FROM pg_class WHERE relnamespace = 'logging'::regnamespace AND relkind IN ('r', 'p'))::int AS tables,
               (SELECT count(*) FROM pg_constraint)::int AS constraints`;
      const floor = await dropFloor(sql, median(freed));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      // DETACH and ATTACH PARTITION read pg_constraint whole (it has no index for what they look
      // up): the catalog grows with the partitions kept, not with the rows.
      console.log(`  ${size!.tables} tables (partitions and leaves) and ${size!.constraints} rows in pg_constraint`);
      const seedsBest = median(seedsIndexed);
      const vacuum = median(vacuums);
      const r = { scenario, stored: size!.n, ours: median(ours), seeds: median(seeds), seedsBest, vacuum, freed: median(freed), floor };
      console.log(
        `  daily run, ${size!.n} rows in the tables: median ours ${ms(r.ours)}; the seed's way ${s(r.seeds)} as planned (ratio ${(r.seeds / r.ours).toFixed(0)}×), ` +
          `${s(seedsBest)} oldest first by the index (ratio ${(seedsBest / r.ours).toFixed(0)}×), and its VACUUM ${s(vacuum)} (with it, ratio ${((seedsBest + vacuum) / r.ours).toFixed(0)}×); ` +
          `means (premaking days included) ours ${ms(mean(ours))}, the seed's way ${s(mean(seeds))} / ${s(mean(seedsIndexed))}; ` +
          `ours freed ${mb(r.freed)} of partitions a day; a bare DROP of that much costs ${ms(floor)} here`,
      );
      results.push(r);
    } finally {
      await sql.end();
      await db.stop();
    }
  }
  const base = results.find((r) => r.scenario.rows === ROWS && r.scenario.kept === 1) ?? results[0]!;
  console.log(`\nsummary (medians of ${DAILY} daily runs; growth against ${base.scenario.label}):`);
  for (const r of results) {
    console.log(
      `  ${r.scenario.label.padEnd(16)} ${String(r.stored).padStart(9)} rows stored: ours ${ms(r.ours)} (×${(r.ours / base.ours).toFixed(2)}), ` +
        `seed's way as planned ${s(r.seeds)} (×${(r.seeds / base.seeds).toFixed(2)}), ratio ${(r.seeds / r.ours).toFixed(0)}×; ` +
        `oldest first ${s(r.seedsBest)} (×${(r.seedsBest / base.seedsBest).toFixed(2)}), ratio ${(r.seedsBest / r.ours).toFixed(0)}×; ` +
        `its VACUUM ${s(r.vacuum)} (×${(r.vacuum / base.vacuum).toFixed(2)}), with it ratio ${((r.seedsBest + r.vacuum) / r.ours).toFixed(0)}×; freed ${mb(r.freed)}, bare DROP ${ms(r.floor)}`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
