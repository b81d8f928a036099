/**
 * Per-minute ingest counters (logging.ingest_counters): records accepted and rejected, batches
 * queued to QStash. They feed /metrics and the pipeline-health alert rules. Written after the
 * response, sharded over a few rows per minute so concurrent requests do not queue on one row
 * lock; a write that fails (the database is down, which is when batches are queued) is carried
 * over to the isolate's next successful write, so its counts land a little later, not never.
 */
import type { Sql } from '../db/client';

export interface IngestTally {
  accepted: number;
  rejected: number;
  queued: number;
}

export const COUNTER_SHARDS = 8;

export function emptyTally(): IngestTally {
  return { accepted: 0, rejected: 0, queued: 0 };
}

const carried = emptyTally();

function add(into: IngestTally, t: IngestTally): void {
  into.accepted += t.accepted;
  into.rejected += t.rejected;
  into.queued += t.queued;
}

/** Adds the tally (and anything carried over) to the current minute's counters. Never rejects. */
export async function recordIngestTally(sql: Sql, tally: IngestTally, now = new Date()): Promise<void> {
  const t = emptyTally();
  add(t, tally);
  add(t, carried);
  if (t.accepted + t.rejected + t.queued === 0) return;
  Object.assign(carried, emptyTally());
  const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  const shard = Math.floor(Math.random() * COUNTER_SHARDS);
  try {
    await sql`
      INSERT INTO logging.ingest_counters (minute, shard, accepted, rejected, queued_batches)
      VALUES (${minute}, ${shard}, ${t.accepted}, ${t.rejected}, ${t.queued})
      ON CONFLICT (minute, shard) DO UPDATE SET accepted = ingest_counters.accepted + EXCLUDED.accepted,
        rejected = ingest_counters.rejected + EXCLUDED.rejected, queued_batches = ingest_counters.queued_batches + EXCLUDED.queued_batches`;
  } catch {
    add(carried, t);
  }
}
