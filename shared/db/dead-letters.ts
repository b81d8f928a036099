import type { Sql } from './client';

export interface DeadLetter {
  id: string;
  kind: 'retries_exhausted' | 'unstorable';
  source_message_id: string | null;
  dlq_id: string | null;
  payload: string;
  reason: string;
  created_at: Date;
  replayed_at: Date | null;
}

/** Keeps a batch for later; a QStash message recorded twice (re-delivered callback) is kept once. */
export async function recordDeadLetter(
  sql: Sql,
  input: { kind: DeadLetter['kind']; sourceMessageId?: string | null; dlqId?: string | null; payload: string; reason: string },
): Promise<void> {
  await sql`
    INSERT INTO logging.dead_letters (kind, source_message_id, dlq_id, payload, reason)
    VALUES (${input.kind}, ${input.sourceMessageId ?? null}, ${input.dlqId ?? null}, ${input.payload}, ${input.reason})
    ON CONFLICT (source_message_id) DO NOTHING`;
}

export async function pendingDeadLetters(sql: Sql): Promise<DeadLetter[]> {
  return sql<DeadLetter[]>`
    SELECT id::text, kind, source_message_id, dlq_id, payload, reason, created_at, replayed_at
    FROM logging.dead_letters WHERE replayed_at IS NULL ORDER BY created_at, id`;
}

export async function markReplayed(sql: Sql, id: string): Promise<void> {
  await sql`UPDATE logging.dead_letters SET replayed_at = now() WHERE id = ${id}`;
}
