/**
 * npm run dlq -- list      what is waiting: logging.dead_letters, and QStash's own DLQ
 * npm run dlq -- replay    re-ingests both into the log tables (idempotent: ids are kept), then
 *                          marks the dead letters replayed and deletes the QStash DLQ messages
 *
 * DATABASE_URL (or the embedded Postgres); QSTASH_URL and QSTASH_TOKEN for QStash's DLQ
 * (unset: the local QStash with the dev server's token, when one is running).
 */
import { Client } from '@upstash/qstash';
import { createSql, type Sql } from '../db/client';
import { markReplayed, pendingDeadLetters } from '../db/dead-letters';
import { migrate, openDatabase, portIsOpen } from '../dev/postgres';
import { DEV_CREDENTIALS } from '../dev/qstash/signing';
import { storeTrusted } from '../ingest';
import { REPLAY_PATH } from '../qstash';

interface QStashDlqMessage {
  dlqId: string;
  messageId: string;
  url: string;
  body?: string;
  responseStatus?: number;
  createdAt?: number;
}

async function qstashClient(): Promise<Client | undefined> {
  if (process.env.QSTASH_URL) return new Client({ baseUrl: process.env.QSTASH_URL, token: process.env.QSTASH_TOKEN ?? '' });
  const port = Number(process.env.QSTASH_PORT ?? 8080);
  if (await portIsOpen(port)) return new Client({ baseUrl: `http://127.0.0.1:${port}`, token: DEV_CREDENTIALS.token });
  return undefined;
}

async function qstashDlq(client: Client): Promise<QStashDlqMessage[]> {
  const all: QStashDlqMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.dlq.listMessages({ cursor });
    all.push(...(page.messages as unknown as QStashDlqMessage[]));
    cursor = page.cursor;
  } while (cursor);
  return all.filter((m) => new URL(m.url).pathname === REPLAY_PATH);
}

/** Stores a replay batch's records; returns [stored, duplicates]. Throws when they cannot be stored. */
async function storePayload(sql: Sql, payload: string): Promise<[number, number]> {
  const { stored, duplicates } = await storeTrusted(sql, JSON.parse(payload), { allOrNothing: true });
  return [stored, duplicates];
}

async function main() {
  const command = process.argv[2];
  if (command !== 'list' && command !== 'replay') {
    console.error('usage: npm run dlq -- list|replay');
    process.exit(2);
  }
  const db = await openDatabase();
  if (!process.env.DATABASE_URL) await migrate(db.url); // the embedded database is ours to keep current
  const sql = createSql(db.url, { max: 1 });
  let failures = 0;
  try {
    const letters = await pendingDeadLetters(sql);
    const client = await qstashClient();
    const dlq = client ? await qstashDlq(client) : [];
    if (!client) console.log('QStash DLQ: not checked (QSTASH_URL unset and no local QStash running)');
    if (command === 'list') {
      console.log(`${letters.length} dead letters waiting in logging.dead_letters`);
      for (const l of letters)
        console.log(`  #${l.id} ${l.kind} ${l.created_at.toISOString()} message=${l.source_message_id ?? '-'} ${l.reason.slice(0, 160)}`);
      if (client) console.log(`${dlq.length} replay messages in QStash's DLQ`);
      for (const m of dlq) console.log(`  ${m.dlqId} message=${m.messageId} last status ${m.responseStatus ?? '?'}`);
      return;
    }
    for (const l of letters) {
      try {
        const [stored, dup] = await storePayload(sql, l.payload);
        await markReplayed(sql, l.id);
        console.log(`dead letter #${l.id}: ${stored} stored, ${dup} already there`);
      } catch (error) {
        failures++;
        console.error(`dead letter #${l.id}: not replayed: ${(error as Error).message}`);
      }
    }
    for (const m of dlq) {
      try {
        const [stored, dup] = await storePayload(sql, m.body ?? '');
        await client!.dlq.delete(m.dlqId);
        console.log(`QStash DLQ ${m.dlqId}: ${stored} stored, ${dup} already there`);
      } catch (error) {
        failures++;
        console.error(`QStash DLQ ${m.dlqId}: not replayed: ${(error as Error).message}`);
      }
    }
    console.log(`replayed ${letters.length + dlq.length - failures} of ${letters.length + dlq.length}`);
  } finally {
    await sql.end();
    await db.stop();
  }
  if (failures) process.exit(1);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
