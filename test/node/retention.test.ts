/**
 * Retention against a real Postgres of its own (it drops partitions), with data at many ages and
 * a controllable clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../shared/db/client';
import { insertBatch, type LogRow, type MetricRow } from '../../shared/ingest';
import { LeaseLostError } from '../../shared/db/leases';
import { ensureDay, freePurged, listDays, purgedPartitions, retire } from '../../shared/retention/sql';
import { startScratchDatabase, type Database } from '../../shared/dev/postgres';
import { DEFAULT_POLICY, runRetention } from '../../shared/retention';
import { holdTable } from './fixtures/hold-table';
import { ingestLoop } from './fixtures/ingest-loop';

const DAY = 86_400_000;
const NOW = new Date();
const AGES = [0, 5, 29, 31, 45, 89, 91, 100, 120];
const dayOf = (age: number, now = NOW) => new Date(now.getTime() - age * DAY).toISOString().slice(0, 10);

let db: Database;
let sql: Sql;

/** Per age: an INFO system log, an ERROR, a CRITICAL, a trading INFO, and a metric, at noon UTC. */
async function seed(ages: number[], tag: string) {
  const logs: LogRow[] = [];
  const metrics: MetricRow[] = [];
  for (const age of ages) {
    const ts = `${dayOf(age)}T12:00:00.000Z`;
    const base = { timestamp: ts, service: 'execution', data: { age, tag }, correlation_id: null };
    logs.push({ ...base, id: crypto.randomUUID(), level: 'INFO', message: `info ${age}`, event_type: 'system' });
    logs.push({ ...base, id: crypto.randomUUID(), level: 'ERROR', message: `error ${age}`, event_type: null });
    logs.push({ ...base, id: crypto.randomUUID(), level: 'CRITICAL', message: `critical ${age}`, event_type: null });
    logs.push({ ...base, id: crypto.randomUUID(), level: 'INFO', message: `trade ${age}`, event_type: 'trading' });
    metrics.push({
      ...base,
      id: crypto.randomUUID(),
      operation: `op ${age}`,
      execution_time_ms: 1,
      memory_usage_mb: null,
      cpu_usage_percent: null,
    });
  }
  await insertBatch(sql, logs, metrics);
}

async function where(tag: string) {
  const active = await sql<{ m: string }[]>`SELECT message AS m FROM logging.system_logs WHERE data->>'tag' = ${tag}`;
  const archived = await sql<{ m: string }[]>`SELECT message AS m FROM logging.archived_system_logs WHERE data->>'tag' = ${tag}`;
  const metrics = await sql<{ m: string }[]>`SELECT operation AS m FROM logging.performance_logs WHERE data->>'tag' = ${tag}`;
  const archivedMetrics = await sql<
    { m: string }[]
  >`SELECT operation AS m FROM logging.archived_performance_logs WHERE data->>'tag' = ${tag}`;
  const sort = (r: { m: string }[]) => r.map((x) => x.m).sort();
  return { active: sort(active), archived: sort(archived), metrics: sort(metrics), archivedMetrics: sort(archivedMetrics) };
}

function expected(ages: number[], archiveAfter = 30, keepUntil = 90) {
  const active = ages.filter((a) => a <= archiveAfter - 1 || a < archiveAfter);
  const archivedAges = ages.filter((a) => a > archiveAfter - 1 && !active.includes(a) && a < keepUntil);
  const sort = (xs: string[]) => xs.sort();
  return {
    active: sort(active.flatMap((a) => [`info ${a}`, `error ${a}`, `critical ${a}`, `trade ${a}`])),
    archived: sort(archivedAges.flatMap((a) => [`error ${a}`, `critical ${a}`, `trade ${a}`])),
    metrics: sort(active.map((a) => `op ${a}`)),
    archivedMetrics: [],
  };
}

beforeAll(async () => {
  db = await startScratchDatabase('retention');
  sql = createSql(db.url, { max: 4 });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await db?.stop();
});

describe('retention', () => {
  it('moves every class where the policy says, by whole days, and a second run changes nothing', async () => {
    // Half the old days get their partition first; the others land in the default partition.
    for (const age of [31, 89, 100]) {
      await ensureDay(sql, 'system_logs', dayOf(age));
      await ensureDay(sql, 'performance_logs', dayOf(age));
    }
    await seed(AGES, 'a');
    const first = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(first.errors).toEqual([]);
    expect(await where('a')).toEqual(expected(AGES));
    expect(first.rowsKept).toMatchObject({ error: 6, trading: 3, total: 9 }); // ERROR and CRITICAL of 31, 45, 89
    expect(first.rowsPurged.system_logs).toBe(3 + 3 * 4); // info of 31/45/89 + everything of 91/100/120
    expect(first.rowsPurged.performance_logs).toBe(6);
    expect(first.defaultDaysSwept.length).toBeGreaterThan(0);
    // Nothing of a day older than 30 is left in the active tables' partitions or default.
    const oldest = (await listDays(sql, 'system_logs'))[0]!;
    expect(oldest >= dayOf(30)).toBe(true);
    const [{ n }] = (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs_default`) as unknown as [{ n: number }];
    expect(n).toBe(0);

    const second = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(second.skipped).toBeUndefined(); // the first run released its lease
    expect(second).toMatchObject({ daysArchived: [], archivedDaysDropped: [], partitionsDropped: 0, partitionsCreated: 0, errors: [] });
    expect(await where('a')).toEqual(expected(AGES));
  });

  it('a dry run reports what it would do and changes nothing', async () => {
    await seed([40], 'dry');
    const before = await where('dry');
    const plan = await runRetention(sql, DEFAULT_POLICY, { now: NOW, dryRun: true });
    expect(plan.actions.some((a) => a.includes(dayOf(40)) && a.startsWith('move system_logs'))).toBe(true);
    expect(await where('dry')).toEqual(before);
    await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(await where('dry')).toEqual(expected([40]));
    // What that run purged waits to be freed: a dry run lists it, and leaves it.
    const waiting = await purgedPartitions(sql);
    expect(waiting.length).toBeGreaterThan(0);
    const again = await runRetention(sql, DEFAULT_POLICY, { now: NOW, dryRun: true });
    expect(again.actions).toContainEqual(expect.stringMatching(new RegExp(`^free ${waiting.length} partitions purged by an earlier run`)));
    expect(again.bytesFreed).toBe(0);
    expect(await purgedPartitions(sql)).toEqual(waiting);
  });

  it("a purged partition that cannot be freed yet waits for the next run, and the day's work goes on", async () => {
    await seed([55], 'blocked');
    await runRetention(sql, DEFAULT_POLICY, { now: NOW }); // day 55 archived and purged: what is left of it waits
    const waiting = `purged_system_logs_p${dayOf(55).replaceAll('-', '')}`;
    expect((await purgedPartitions(sql)).map((p) => p.name)).toContain(waiting);
    await seed([56], 'blocked-next');
    const reader = await holdTable(db.url, `${waiting}_standard`);
    const run = await runRetention(sql, DEFAULT_POLICY, { now: NOW, lockRetries: 0 });
    await reader.release();
    expect(run.errors).toEqual([expect.stringMatching(/^free purged partitions: .*lock timeout/)]);
    expect(run.bytesFreed).toBe(0);
    expect(await where('blocked-next')).toEqual(expected([56])); // the day moved all the same
    expect((await purgedPartitions(sql)).map((p) => p.name)).toContain(waiting);
    const next = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(next.errors).toEqual([]);
    expect(next.bytesFreed).toBeGreaterThan(0);
    expect(await purgedPartitions(sql)).toEqual([]);
  });

  it('a day purged again before the first purge was freed: the newer replaces the older', async () => {
    await seed([57], 'twice');
    await freePurged(sql);
    await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const purgedDay = `purged_system_logs_p${dayOf(57).replaceAll('-', '')}`;
    expect((await purgedPartitions(sql)).map((p) => p.name)).toContain(purgedDay);
    // A late row for day 57 brings the day back (out of the default partition); it is retired
    // again, here without a run to free the first purge in between.
    await insertBatch(
      sql,
      [
        {
          id: crypto.randomUUID(),
          timestamp: `${dayOf(57)}T13:00:00.000Z`,
          service: 'execution',
          level: 'INFO',
          message: 'late 57',
          data: { tag: 'twice' },
          correlation_id: null,
          event_type: null,
        },
      ],
      [],
    );
    await ensureDay(sql, 'system_logs', dayOf(57));
    const retired = await retire(sql, [{ table: 'system_logs', day: dayOf(57), keep: 'extended', archiveHasDay: true }], []);
    expect(retired.days[0]!.counts.total).toBe(1);
    expect((await purgedPartitions(sql)).map((p) => p.name).filter((n) => n.startsWith(purgedDay))).toEqual([
      purgedDay,
      `${purgedDay}_extended`,
    ]);
    expect(await sql.unsafe(`SELECT message FROM logging.${purgedDay}`)).toEqual([{ message: 'late 57' }]);
    expect(await where('twice')).toEqual(expected([57]));
  });

  it('frees a backlog in transactions of bounded size, and counts what committed before one failed', async () => {
    await freePurged(sql);
    await seed([58, 59], 'backlog');
    await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const waiting = await purgedPartitions(sql);
    expect(waiting.length).toBeGreaterThanOrEqual(4); // both days and both days' metrics
    // One table per transaction; the last one is held by a reader, so its transaction fails.
    const last = waiting.at(-1)!;
    const reader = await holdTable(db.url, last.name);
    const heard: { tables: string[]; bytes: number }[] = [];
    await expect(freePurged(sql, undefined, { batch: 1, onFreed: (f) => heard.push(f) })).rejects.toThrow(/lock timeout/);
    await reader.release();
    expect(heard).toEqual(waiting.slice(0, -1).map((p) => ({ tables: [p.name], bytes: p.bytes })));
    expect(await purgedPartitions(sql)).toEqual([last]);
    expect(await freePurged(sql, undefined, { batch: 1 })).toEqual({ tables: [last.name], bytes: last.bytes });
  });

  it('holds its lease until the freeing is done, even when its days are moved first', async () => {
    await freePurged(sql);
    await seed([62], 'slow-free');
    await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const [waiting] = await purgedPartitions(sql);
    await seed([63], 'slow-free-next');
    // A reader holds a purged table for a while (under the 1 s lock timeout): the freeing waits,
    // the day is moved meanwhile.
    const reader = await holdTable(db.url, waiting!.name);
    const run = runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const archived = dayOf(63);
    for (let i = 0; i < 100 && !(await listDays(sql, 'archived_system_logs')).includes(archived); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await listDays(sql, 'archived_system_logs')).toContain(archived);
    const leases = async () =>
      (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.job_leases WHERE name = 'retention'`)[0]!.n;
    expect(await leases()).toBe(1); // still held: the freeing is not done
    await reader.release();
    const summary = await run;
    expect(summary.errors).toEqual([]);
    expect(summary.bytesFreed).toBeGreaterThan(0);
    expect(await leases()).toBe(0);
    expect(await where('slow-free-next')).toEqual(expected([63]));
  });

  /** Purged tables' names, from the catalog only: a size would wait on the freeing's lock. */
  const purgedNames = async () =>
    (
      await sql<{ n: string }[]>`SELECT relname::text AS n FROM pg_class WHERE relname LIKE 'purged\_%' AND NOT relispartition ORDER BY 1`
    ).map((r) => r.n);

  /**
   * A run leaves a day purged (`age`); the next day (`age` + 1) is due, and its count is held up by
   * a lock (ACCESS EXCLUSIVE on its standard partition) until `blocker.release()`.
   */
  async function purgedAndHeldUp(age: number, tag: string, alsoPurged: number[] = []) {
    await freePurged(sql);
    await seed([age, ...alsoPurged], tag);
    await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const waiting = await purgedNames();
    expect(waiting.length).toBeGreaterThan(0);
    await seed([age + 1], `${tag}-next`);
    await ensureDay(sql, 'system_logs', dayOf(age + 1));
    const blocker = await holdTable(db.url, `system_logs_p${dayOf(age + 1).replaceAll('-', '')}_standard`, 'ACCESS EXCLUSIVE');
    return { waiting, blocker };
  }

  it('hands files back only once its day is counted, so the freeing does not slow the count', async () => {
    const { waiting, blocker } = await purgedAndHeldUp(64, 'gate');
    // The count waits 400 ms (under the 1 s lock timeout); the freeing has nothing to wait on but the count.
    const run = runRetention(sql, DEFAULT_POLICY, { now: NOW });
    await new Promise((r) => setTimeout(r, 400));
    expect(await purgedNames()).toEqual(waiting); // dropped, not committed
    await blocker.release();
    const summary = await run;
    expect(summary.errors).toEqual([]);
    expect(summary.bytesFreed).toBeGreaterThan(0);
    expect((await purgedNames()).filter((n) => waiting.includes(n))).toEqual([]);
    expect(summary.rowsKept).toMatchObject({ error: 2, trading: 1, total: 3 });
    expect(await where('gate-next')).toEqual(expected([65]));
  });

  it('with no day to count, the freeing does not wait for one', async () => {
    await freePurged(sql);
    await seed([68], 'gate-none');
    await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const waiting = await purgedNames();
    expect(waiting.length).toBeGreaterThan(0);
    // Nothing is due now: the run only frees, and must not sit out the 1 s the gate allows a count.
    const summary = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(summary.daysArchived).toEqual([]);
    expect(summary.errors).toEqual([]);
    expect(summary.bytesFreed).toBeGreaterThan(0);
    expect((await purgedNames()).filter((n) => waiting.includes(n))).toEqual([]);
    expect(summary.durationMs).toBeLessThan(800);
  });

  it('a count held up past the lock timeout does not hold the freeing with it', async () => {
    // A backlog of more than one freeing transaction (32 tables each): 20 days past every retention.
    const backlog = Array.from({ length: 20 }, (_, i) => 100 + i);
    const { waiting, blocker } = await purgedAndHeldUp(66, 'gate-cap', backlog);
    expect(waiting.length).toBeGreaterThan(32);
    // Held 1.6 s: the first count times out at 1 s and is retried; the freeing commits after 1 s,
    // all of its transactions, not one a second.
    const run = runRetention(sql, DEFAULT_POLICY, { now: NOW });
    await new Promise((r) => setTimeout(r, 1400));
    expect((await purgedNames()).filter((n) => waiting.includes(n))).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    await blocker.release();
    const summary = await run;
    expect(summary.errors).toEqual([]);
    expect(summary.bytesFreed).toBeGreaterThan(0);
    expect(await where('gate-cap-next')).toEqual(expected([67]));
  });

  it('two concurrent runs: one holds the lease, the result is the same', async () => {
    await seed([50, 95], 'c');
    const other = createSql(db.url, { max: 2 });
    const [a, b] = await Promise.all([runRetention(sql, DEFAULT_POLICY, { now: NOW }), runRetention(other, DEFAULT_POLICY, { now: NOW })]);
    await other.end();
    expect([a.skipped, b.skipped].filter(Boolean)).toHaveLength(1);
    expect([...a.errors, ...b.errors]).toEqual([]);
    expect(await where('c')).toEqual(expected([50, 95]));
  });

  it('a crash between steps loses nothing, and the next run finishes the work', async () => {
    await seed([60, 61], 'crash');
    const target = `retire ${dayOf(61)}`;
    await expect(
      runRetention(sql, DEFAULT_POLICY, {
        now: NOW,
        leaseSeconds: 1,
        onStep: (s) => {
          if (s === target) throw new Error('injected crash');
        },
      }),
    ).rejects.toThrow('injected crash');
    // The crashed day is untouched: all its rows still active.
    expect((await where('crash')).active).toEqual(expect.arrayContaining(['info 61', 'error 61', 'trade 61']));
    await new Promise((r) => setTimeout(r, 1100)); // the dead run's lease expires
    const next = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(next.errors).toEqual([]);
    expect(await where('crash')).toEqual(expected([60, 61]));
  });

  it("a crash inside a day's move rolls the whole day back", async () => {
    await seed([70], 'tx');
    await runRetention(sql, { ...DEFAULT_POLICY, archiveAfterDays: 80 }, { now: NOW }); // day 70 now has its own partition
    const plan = { table: 'system_logs', day: dayOf(70), keep: 'extended', archiveHasDay: false } as const;
    await expect(
      retire(sql, [plan], [], {
        beforeCommit: async () => {
          throw new Error('power cut');
        },
      }),
    ).rejects.toThrow('power cut');
    expect((await where('tx')).active).toHaveLength(4);
    expect((await where('tx')).archived).toHaveLength(0);
  });

  it('catches up after ten missed days', async () => {
    await seed([25, 28], 'late');
    const later = new Date(NOW.getTime() + 10 * DAY);
    const run = await runRetention(sql, DEFAULT_POLICY, { now: later });
    expect(run.errors).toEqual([]);
    // Now 35 and 38 days old: archived.
    const w = await where('late');
    expect(w.active).toEqual([]);
    expect(w.archived).toEqual(['critical 25', 'critical 28', 'error 25', 'error 28', 'trade 25', 'trade 28']);
    // And the coming days were made ahead of the new date.
    // The horizon was short, so it was topped up a week beyond the 14 days.
    const days = await listDays(sql, 'system_logs');
    expect(days).toContain(dayOf(-14, later));
    expect(days).toContain(dayOf(-20, later));
    expect(days).not.toContain(dayOf(-21, later));
  });

  it('takes purged partitions out at once and frees their files in the next run, with one connection or several', async () => {
    const size = async (partition: string) =>
      (await sql.unsafe<{ b: number }[]>(`SELECT pg_total_relation_size('logging.${partition}')::float8 AS b`))[0]!.b;
    const waiting = async () => (await purgedPartitions(sql)).map((p) => p.name);
    for (const [client, age, tag] of [
      [createSql(db.url, { max: 1 }), 47, 'one'],
      [createSql(db.url, { max: 3 }), 48, 'three'],
    ] as const) {
      const day = dayOf(age).replaceAll('-', '');
      await ensureDay(sql, 'system_logs', dayOf(age));
      await ensureDay(sql, 'performance_logs', dayOf(age));
      await seed([age, age, age], tag);
      await freePurged(sql); // what earlier tests purged, out of the way
      // Purged: the day's standard partition (its extended one moves) and its metrics' partition.
      const purged = (await size(`system_logs_p${day}_standard`)) + (await size(`performance_logs_p${day}`));
      const run = await runRetention(client, DEFAULT_POLICY, { now: NOW });
      expect(run.errors).toEqual([]);
      expect(run.daysArchived).toEqual([`system_logs:${dayOf(age)}`]);
      expect(run.rowsKept).toEqual({ error: 6, trading: 3, performance: 0, total: 9 });
      expect(run.rowsPurged).toEqual({ system_logs: 3, performance_logs: 3 });
      expect(await where(tag)).toEqual(expected([age, age, age]));
      expect(run.bytesFreed).toBe(0); // nothing was waiting
      expect(await waiting()).toEqual([`purged_performance_logs_p${day}`, `purged_system_logs_p${day}`]);
      // Only the holder of the run's lease frees them.
      await expect(freePurged(sql, { name: 'retention', holder: crypto.randomUUID(), ttlSeconds: 60 })).rejects.toThrow(LeaseLostError);
      expect(await waiting()).toEqual([`purged_performance_logs_p${day}`, `purged_system_logs_p${day}`]);
      const next = await runRetention(client, DEFAULT_POLICY, { now: NOW });
      await client.end();
      expect(next.errors).toEqual([]);
      expect(purged).toBeGreaterThan(0);
      expect(next.bytesFreed).toBe(purged);
      expect(await waiting()).toEqual([]);
      expect(next.rowsPurged).toEqual({ system_logs: 0, performance_logs: 0 });
    }
  });

  it('ingest keeps working while the job runs', async () => {
    await seed([33, 34, 35, 36, 37], 'busy');
    const ingest = ingestLoop(sql);
    const run = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const ingested = await ingest.stop();
    expect(ingested.errors).toEqual([]);
    expect(run.errors).toEqual([]);
    expect(ingested.batches).toBeGreaterThan(0);
    expect(ingested.longestMs).toBeLessThan(500);
    expect(await where('busy')).toEqual(expected([33, 34, 35, 36, 37]));
  });

  it('moves a day to the archive as catalog work: the same partition and the same indexes, adopted, not copied', async () => {
    await ensureDay(sql, 'system_logs', dayOf(42));
    await seed([42], 'meta');
    const relation = async (name: string) => {
      const [row] = await sql<{ file: string; indexes: string; count: number; adopted: number }[]>`
        SELECT c.relfilenode::text AS file, string_agg(ic.relfilenode::text, ',' ORDER BY ic.relfilenode) AS indexes, count(*)::int AS count,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid))::int AS adopted
        FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE c.relname = ${name} GROUP BY c.relfilenode`;
      return row;
    };
    const day = dayOf(42).replaceAll('-', '');
    const before = await relation(`system_logs_p${day}_extended`);
    expect(before!.count).toBe(8);
    const run = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(run.errors).toEqual([]);
    expect(await relation(`system_logs_p${day}_extended`)).toBeUndefined();
    const after = await relation(`archived_system_logs_p${day}`);
    expect(after).toEqual({ ...before, adopted: 8 }); // every index now belongs to the archive's
    expect((await where('meta')).archived).toEqual(['critical 42', 'error 42', 'trade 42']);
  });

  it('a row that arrives after its day moved is added to the archived day', async () => {
    await seed([47], 'late-row');
    await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    const base = { timestamp: `${dayOf(47)}T18:00:00.000Z`, service: 'execution', data: { tag: 'late-row' }, correlation_id: null };
    await insertBatch(
      sql,
      [
        { ...base, id: crypto.randomUUID(), level: 'ERROR', message: 'late error 47', event_type: null },
        { ...base, id: crypto.randomUUID(), level: 'INFO', message: 'late info 47', event_type: null },
      ],
      [],
    );
    const run = await runRetention(sql, DEFAULT_POLICY, { now: NOW });
    expect(run.errors).toEqual([]);
    expect(run.defaultDaysSwept).toContain(`system_logs:${dayOf(47)}`);
    const w = await where('late-row');
    expect(w.active).toEqual([]);
    expect(w.archived).toEqual(['critical 47', 'error 47', 'late error 47', 'trade 47']);
  });

  it('follows the policy: one class kept longer, or whole days', async () => {
    await seed([44], 'one-class');
    const errorsShort = await runRetention(sql, { ...DEFAULT_POLICY, errorLogsDays: 30 }, { now: NOW });
    expect(errorsShort.errors).toEqual([]);
    expect(errorsShort.rowsKept).toMatchObject({ error: 0, trading: 1, total: 1 });
    expect(await where('one-class')).toMatchObject({ active: [], archived: ['trade 44'] });

    await seed([46], 'whole');
    const wholeDays = await runRetention(sql, { ...DEFAULT_POLICY, systemLogsDays: 60, performanceLogsDays: 60 }, { now: NOW });
    expect(wholeDays.errors).toEqual([]);
    expect(await where('whole')).toEqual({
      active: [],
      metrics: [],
      archived: ['critical 46', 'error 46', 'info 46', 'trade 46'],
      archivedMetrics: ['op 46'],
    });
    expect(wholeDays.rowsKept).toMatchObject({ total: 5, performance: 1 });
  });

  /** A run at `now` while `reader` holds its table for 1.5 s and ingest writes beside it. */
  async function runBesideReader(reader: { release: () => Promise<void> }, now = NOW) {
    const released = new Promise((r) => setTimeout(r, 1_500)).then(reader.release);
    const ingest = ingestLoop(sql);
    const started = Date.now();
    const run = await runRetention(sql, DEFAULT_POLICY, { now });
    await released;
    return { run, ms: Date.now() - started, ingested: await ingest.stop() };
  }

  // A reader holding the table alone holds the job at the table ingest writes: ingest queues behind
  // the job's request, so each try waits one short lock timeout (200 ms), not the reader's time.
  // A reader holding its partitions too holds the job at the day's partition: ingest goes on.
  it.each([
    { reader: 'the table alone', only: true, tag: 'locked-table' },
    { reader: 'the table and its partitions', only: false, tag: 'locked-tree' },
  ])('waits out a reader holding $reader: the lock timeout is retried, ingest waits a moment at most', async ({ only, tag }) => {
    await seed([52], tag);
    const { run, ms, ingested } = await runBesideReader(await holdTable(db.url, 'system_logs', 'ACCESS SHARE', only));
    expect(run.errors).toEqual([]);
    expect(ms).toBeGreaterThan(1_000); // it did wait, and then it finished
    expect(await where(tag)).toEqual(expected([52]));
    expect(ingested.errors).toEqual([]);
    expect(ingested.batches).toBeGreaterThan(10);
    expect(ingested.longestMs).toBeLessThan(500);
  });

  it('a query that collides with the job waits a moment and is never the one that fails', async () => {
    await ensureDay(sql, 'system_logs', dayOf(54));
    await ensureDay(sql, 'performance_logs', dayOf(54));
    await seed([54], 'collide');
    // The job waits for the day's partition behind a reader; a query of the whole table starts
    // meanwhile and queues behind the job for the same partition, holding the table the job needs
    // next. The job's short lock timeout ends its try before the deadlock detector (1 s) would
    // end the query.
    const first = await holdTable(db.url);
    const run = runRetention(sql, DEFAULT_POLICY, { now: NOW });
    await new Promise((r) => setTimeout(r, 50));
    const querySql = createSql(db.url, { max: 1 });
    const started = Date.now();
    const query = querySql.begin(async (tx) => {
      await tx`SELECT count(*) FROM logging.system_logs`;
      const waited = Date.now() - started;
      await new Promise((r) => setTimeout(r, 300));
      return waited;
    });
    await new Promise((r) => setTimeout(r, 880));
    await first.release();
    const waited = await query.finally(() => querySql.end());
    expect(waited).toBeLessThan(500);
    const summary = await run;
    expect(summary.errors).toEqual([]);
    expect(await where('collide')).toEqual(expected([54]));
  });

  it('a run whose lease was taken over stops before changing anything', async () => {
    await seed([53], 'stolen');
    const target = `retire ${dayOf(53)}`;
    const steal = async (step: string) => {
      if (step === target) await sql`UPDATE logging.job_leases SET holder = gen_random_uuid() WHERE name = 'retention'`;
    };
    await expect(runRetention(sql, DEFAULT_POLICY, { now: NOW, onStep: steal })).rejects.toThrow(/lease retention lost/);
    expect((await where('stolen')).active).toHaveLength(4);
    await sql`DELETE FROM logging.job_leases`; // the thief is gone
    expect((await runRetention(sql, DEFAULT_POLICY, { now: NOW })).errors).toEqual([]);
    expect(await where('stolen')).toEqual(expected([53]));
  });

  it('a day that fails does not hold the expired archive days hostage', async () => {
    await seed([50], 'hostage-old');
    expect((await runRetention(sql, DEFAULT_POLICY, { now: NOW })).errors).toEqual([]); // day 50 archived
    await ensureDay(sql, 'system_logs', dayOf(32));
    await ensureDay(sql, 'performance_logs', dayOf(32));
    await seed([32], 'hostage');
    const reader = await holdTable(db.url);
    // Errors and trading kept 35 days: archived day 50 has expired; day 32 is due but locked.
    const run = await runRetention(sql, { ...DEFAULT_POLICY, errorLogsDays: 35, tradingLogsDays: 35 }, { now: NOW, lockRetries: 0 });
    await reader.release();
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(new RegExp(`^retire ${dayOf(32)}`));
    expect(run.archivedDaysDropped).toContain(`archived_system_logs:${dayOf(50)}`);
    expect((await where('hostage-old')).archived).toEqual([]);
    expect((await where('hostage')).active).toHaveLength(4); // untouched, for the next run
    expect((await runRetention(sql, DEFAULT_POLICY, { now: NOW })).errors).toEqual([]);
    expect(await where('hostage')).toEqual(expected([32]));
  });

  it('a reader of the archive holds the job up, not ingest', async () => {
    // Day 89 is archived now and expires two days later, in the same transaction as day 29 moves.
    const later = new Date(NOW.getTime() + 2 * DAY);
    await seed([89], 'archive-reader-old');
    expect((await runRetention(sql, DEFAULT_POLICY, { now: NOW })).errors).toEqual([]);
    await seed([29], 'archive-reader');
    const { run, ms, ingested } = await runBesideReader(await holdTable(db.url, 'archived_system_logs'), later);
    expect(run.errors).toEqual([]);
    expect(ms).toBeGreaterThan(1_000);
    expect(run.archivedDaysDropped).toContain(`archived_system_logs:${dayOf(89)}`);
    expect((await where('archive-reader-old')).archived).toEqual([]);
    expect(await where('archive-reader')).toEqual(expected([29], 28)); // 31 days old at `later`
    // The job takes the archive before the active tables: while it waits for the archive, ingest goes on.
    expect(ingested.errors).toEqual([]);
    expect(ingested.batches).toBeGreaterThan(10);
    expect(ingested.longestMs).toBeLessThan(500);
  });
});
