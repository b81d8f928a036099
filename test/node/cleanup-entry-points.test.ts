/**
 * The retention job's entry points, as an operator starts them, against a real Postgres of their
 * own (the job drops partitions): the Worker's scheduled() under `wrangler dev --test-scheduled`,
 * triggered by GET /__scheduled, and `npm run cleanup` from the command line, with and without
 * --dry-run. The job itself is covered by retention.test.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSql, type Sql } from '../../shared/db/client';
import { insertBatch, type LogRow } from '../../shared/ingest';
import { ensureDay } from '../../shared/retention/sql';
import { freePort, projectRoot, startScratchDatabase, type Database } from '../../shared/dev/postgres';
import { startWorker, type WorkerProcess } from '../../shared/dev/wrangler';
import type { RetentionSummary } from '../../shared/retention';
import { holdTable } from './fixtures/hold-table';

const exec = promisify(execFile);
const DAY = 86_400_000;
const dayOf = (age: number, now: Date) => new Date(now.getTime() - age * DAY).toISOString().slice(0, 10);

let db: Database;
let sql: Sql;

/** A scratch database for each describe block, so that each sees only its own runs. */
function useScratchDatabase(name: string) {
  beforeAll(async () => {
    db = await startScratchDatabase(name);
    sql = createSql(db.url, { max: 2 });
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await db?.stop();
  });
}

/** At each age before `now`: an INFO, an ERROR and a trading INFO system log and a metric, tagged. */
async function seed(tag: string, now: Date, ages: number[]) {
  const logs: LogRow[] = [];
  for (const age of ages) {
    const day = dayOf(age, now);
    await Promise.all([ensureDay(sql, 'system_logs', day), ensureDay(sql, 'performance_logs', day)]);
    const base = { timestamp: `${day}T12:00:00.000Z`, service: 'execution', data: { tag, age }, correlation_id: null };
    logs.push({ ...base, id: crypto.randomUUID(), level: 'INFO', message: `info ${age}`, event_type: null });
    logs.push({ ...base, id: crypto.randomUUID(), level: 'ERROR', message: `error ${age}`, event_type: null });
    logs.push({ ...base, id: crypto.randomUUID(), level: 'INFO', message: `trade ${age}`, event_type: 'trading' });
  }
  const metrics = ages.map((age) => ({
    id: crypto.randomUUID(),
    timestamp: `${dayOf(age, now)}T12:00:00.000Z`,
    service: 'execution',
    operation: `op ${age}`,
    execution_time_ms: 1,
    memory_usage_mb: null,
    cpu_usage_percent: null,
    correlation_id: null,
    data: { tag, age },
  }));
  await insertBatch(sql, logs, metrics);
}

/** Where the tagged rows are: messages (and operations) by table. */
async function where(tag: string) {
  const list = async (table: string, column: string) =>
    (await sql.unsafe<{ m: string }[]>(`SELECT ${column} AS m FROM logging.${table} WHERE data->>'tag' = $1`, [tag]))
      .map((r) => r.m)
      .sort();
  return {
    active: await list('system_logs', 'message'),
    archived: await list('archived_system_logs', 'message'),
    metrics: await list('performance_logs', 'operation'),
  };
}

/** The summaries the job logged into system_logs since `since`. */
async function summaries(since: Date) {
  return sql<{ message: string; data: Omit<RetentionSummary, 'actions'> }[]>`
    SELECT message, data FROM logging.system_logs
    WHERE service = 'log_ingest' AND event_type = 'cleanup' AND received_at >= ${since} ORDER BY received_at`;
}

/** `npm run cleanup -- …` as an operator types it (with `env` over the test's): exit code, its lines, the summary (the last line, JSON) and stderr. */
async function cleanup(args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await exec('npm', ['run', '--silent', 'cleanup', '--', ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: db.url, ...env },
  }).then(
    (out) => ({ code: 0, ...out }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  const lines = stdout.trim().split('\n');
  const last = lines.at(-1) ?? '';
  const json = last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : undefined;
  // A run that throws has no summary; its last line may be its failure, logged on the console.
  return { code, lines, stdout, stderr, summary: json && 'today' in json ? (json as unknown as RetentionSummary) : undefined };
}

describe('the scheduled entry point', () => {
  useScratchDatabase('cleanup-scheduled');
  let worker: WorkerProcess;
  beforeAll(async () => {
    worker = await startWorker({ port: await freePort(), databaseUrl: db.url, stdio: 'ignore' });
  }, 180_000);
  afterAll(() => worker?.stop());

  it('wrangler dev --test-scheduled: GET /__scheduled runs the job through scheduled() and logs its summary', async () => {
    const now = new Date();
    await seed('scheduled', now, [0, 31, 91]);
    const since = new Date();
    const res = await fetch(`${worker.url}/__scheduled?cron=${encodeURIComponent('0 2 * * *')}`);
    expect(res.status).toBe(200);
    // scheduled() hands the run to ctx.waitUntil: wait for its summary.
    const logged = await vi.waitFor(
      async () => {
        const rows = await summaries(since);
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(logged[0]!.message).toBe('retention run finished');
    expect(logged[0]!.data.errors).toEqual([]);
    expect(logged[0]!.data.daysArchived).toContain(`system_logs:${dayOf(31, now)}`);
    expect(await where('scheduled')).toEqual({
      active: ['error 0', 'info 0', 'trade 0'],
      archived: ['error 31', 'trade 31'],
      metrics: ['op 0'],
    });
  }, 60_000);
});

describe('npm run cleanup', () => {
  useScratchDatabase('cleanup-cli');
  // Today, fixed for the whole block (the summaries the runs log are stamped with the real time).
  const now = new Date();
  const at = ['--now', now.toISOString()];
  beforeAll(() => seed('cli', now, [0, 31, 91]));

  it('npm run cleanup -- --dry-run prints what it would do and changes nothing', async () => {
    const since = new Date();
    const { code, lines, summary } = await cleanup(['--dry-run', ...at]);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ dryRun: true, today: dayOf(0, now), errors: [] });
    expect(lines).toContain(
      `[dry run] would archive 2 of 3 system_logs rows of ${dayOf(31, now)} (its extended partition), purge the rest`,
    );
    expect(lines).toContain(`[dry run] would purge system_logs ${dayOf(91, now)} (3 rows, past every retention)`);
    expect(lines).toContain(`[dry run] would purge performance_logs ${dayOf(31, now)} (1 rows, past every retention)`);
    expect(await where('cli')).toEqual({
      active: ['error 0', 'error 31', 'error 91', 'info 0', 'info 31', 'info 91', 'trade 0', 'trade 31', 'trade 91'],
      archived: [],
      metrics: ['op 0', 'op 31', 'op 91'],
    });
    expect(await summaries(since)).toEqual([]);
  }, 60_000);

  it('npm run cleanup does it, prints progress and the summary, logs the summary; run again, it finds nothing to do', async () => {
    const since = new Date();
    const first = await cleanup(at);
    expect(first.code).toBe(0);
    const { lines, summary } = first;
    expect(lines).toContain(`archive 2 of 3 system_logs rows of ${dayOf(31, now)} (its extended partition), purge the rest`);
    expect(lines.some((l) => l.startsWith('[dry run]'))).toBe(false);
    expect(summary).toMatchObject({ dryRun: false, today: dayOf(0, now), errors: [] });
    expect(summary!.daysArchived).toContain(`system_logs:${dayOf(31, now)}`);
    expect(await where('cli')).toEqual({ active: ['error 0', 'info 0', 'trade 0'], archived: ['error 31', 'trade 31'], metrics: ['op 0'] });

    const again = await cleanup(at);
    expect(again.code).toBe(0);
    expect(again.summary).toMatchObject({ daysArchived: [], archivedDaysDropped: [], partitionsDropped: 0, errors: [] });
    expect(await where('cli')).toEqual({ active: ['error 0', 'info 0', 'trade 0'], archived: ['error 31', 'trade 31'], metrics: ['op 0'] });

    const logged = await summaries(since);
    expect(logged.map((l) => l.data.today)).toEqual([dayOf(0, now), dayOf(0, now)]);
    expect(logged[0]!.data.daysArchived).toEqual(summary!.daysArchived);
    expect(logged[0]!.data.rowsKept).toEqual(summary!.rowsKept);
  }, 120_000);

  it('npm run cleanup whose day cannot be moved exits 1, says why, and logs its summary as an ERROR; the next run moves it', async () => {
    const later = new Date(now.getTime() + DAY);
    await seed('held', later, [31]);
    // A reader holding the table past every try (some 7 s).
    const reader = await holdTable(db.url, 'system_logs', 'ACCESS SHARE', true);
    const since = new Date();
    let held: Awaited<ReturnType<typeof cleanup>>;
    try {
      held = await cleanup(['--now', later.toISOString()]);
    } finally {
      await reader.release();
    }
    expect(held.code).toBe(1);
    expect(held.stdout).toContain(`error: retire ${dayOf(31, later)}: canceling statement due to lock timeout`);
    expect(held.summary!.errors).toEqual([`retire ${dayOf(31, later)}: canceling statement due to lock timeout`]);
    expect(await where('held')).toEqual({ active: ['error 31', 'info 31', 'trade 31'], archived: [], metrics: ['op 31'] });
    const [logged] = await sql<{ level: string; message: string }[]>`
      SELECT level, message FROM logging.system_logs WHERE service = 'log_ingest' AND event_type = 'cleanup' AND received_at >= ${since}`;
    expect(logged).toEqual({ level: 'ERROR', message: 'retention run finished with errors' });

    const next = await cleanup(['--now', later.toISOString()]);
    expect(next.code).toBe(0);
    expect(await where('held')).toEqual({ active: [], archived: ['error 31', 'trade 31'], metrics: [] });
  }, 120_000);

  it('npm run cleanup with a --now that is not a date says so and exits 1', async () => {
    const { code, stderr } = await cleanup(['--now', 'yesterday-ish']);
    expect(code).toBe(1);
    expect(stderr).toContain('--now: not a date: yesterday-ish');
  }, 60_000);

  it('npm run cleanup whose run fails (a log table missing) exits 1, says why, and logs the failure into system_logs', async () => {
    await sql`ALTER TABLE logging.archived_performance_logs RENAME TO archived_performance_logs_away`;
    const since = new Date();
    let failed: Awaited<ReturnType<typeof cleanup>>;
    try {
      failed = await cleanup([]);
    } finally {
      await sql`ALTER TABLE logging.archived_performance_logs_away RENAME TO archived_performance_logs`;
    }
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('relation "logging.archived_performance_logs" does not exist');
    expect(failed.summary).toBeUndefined();
    const logged = await sql<{ level: string; message: string; data: { error: { message: string } } }[]>`
      SELECT level, message, data FROM logging.system_logs WHERE service = 'log_ingest' AND event_type = 'cleanup' AND received_at >= ${since}`;
    expect(logged.map(({ level, message, data }) => ({ level, message, error: data.error.message }))).toEqual([
      { level: 'ERROR', message: 'retention run failed', error: 'relation "logging.archived_performance_logs" does not exist' },
    ]);
  }, 60_000);

  it('npm run cleanup whose database cannot be reached exits 1, says why, and reports the failure on the console', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await cleanup([], { DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/nothing` });
    expect(code).toBe(1);
    expect(stderr).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    // The record cannot reach system_logs; at ERROR it is also a JSON line on the console.
    const records = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; message: string });
    expect(records.map(({ level, message }) => ({ level, message }))).toEqual([{ level: 'ERROR', message: 'retention run failed' }]);
  }, 60_000);

  it('npm run cleanup with a retention variable that is not a number of days says which and why, and does nothing', async () => {
    const since = new Date();
    const { code, stdout, stderr } = await cleanup([], { RETENTION_ERROR_LOGS_DAYS: 'ninety' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^invalid configuration: RETENTION_ERROR_LOGS_DAYS: .*number/m);
    expect(stdout).toBe('');
    expect(await summaries(since)).toEqual([]);
  }, 60_000);
});
