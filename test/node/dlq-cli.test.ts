import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@upstash/qstash';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createSql } from '../../shared/db/client';
import { recordDeadLetter } from '../../shared/db/dead-letters';
import { projectRoot } from '../../shared/dev/postgres';
import { startLocalQStash } from '../../shared/dev/qstash/server';
import { DEV_CREDENTIALS } from '../../shared/dev/qstash/signing';

const exec = promisify(execFile);
/** stdout even when the command exits non-zero (other tests' unstorable dead letters share the database). */
const run = (file: string, args: string[], options: Parameters<typeof exec>[2]) =>
  exec(file, args, options).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
const databaseUrl = inject('databaseUrl');
const sql = createSql(databaseUrl, { max: 1 });
afterAll(() => sql.end());

const batch = (service: string, n: number) =>
  JSON.stringify({
    v: 1,
    logs: Array.from({ length: n }, (_, i) => ({
      id: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      service,
      level: 'ERROR',
      message: `kept ${i}`,
      data: null,
      correlation_id: null,
      event_type: null,
    })),
    metrics: [],
  });

describe('npm run dlq', () => {
  it('lists and re-ingests dead letters and QStash DLQ messages, once', async () => {
    const service = `dlq_${crypto.randomUUID().slice(0, 8)}`;
    const sourceMessageId = `msg_${crypto.randomUUID()}`;
    await recordDeadLetter(sql, { kind: 'retries_exhausted', sourceMessageId, payload: batch(service, 3), reason: 'test' });
    const [letter] = await sql<{ id: string }[]>`SELECT id::text FROM logging.dead_letters WHERE source_message_id = ${sourceMessageId}`;
    const qstash = await startLocalQStash({ retryDelayMs: () => 10 });
    try {
      const client = new Client({ baseUrl: qstash.url, token: DEV_CREDENTIALS.token });
      await client.publish({ url: 'http://127.0.0.1:1/v1/replay', body: batch(service, 2), retries: 0 });
      await qstash.idle();
      expect(qstash.dlq).toHaveLength(1);
      const dlqId = qstash.dlq[0]!.dlqId;
      const env = { ...process.env, DATABASE_URL: databaseUrl, QSTASH_URL: qstash.url, QSTASH_TOKEN: DEV_CREDENTIALS.token };
      const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
      const listed = (await run(tsx, ['shared/cli/dlq.ts', 'list'], { cwd: projectRoot, env })).stdout;
      expect(listed).toMatch(/1 replay messages in QStash's DLQ/);
      expect(listed).toContain(`#${letter!.id} retries_exhausted`);
      expect(listed).toContain(dlqId);
      const replayed = (await run(tsx, ['shared/cli/dlq.ts', 'replay'], { cwd: projectRoot, env })).stdout;
      expect(replayed).toContain(`dead letter #${letter!.id}: 3 stored, 0 already there`);
      expect(replayed).toContain(`QStash DLQ ${dlqId}: 2 stored, 0 already there`);
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE service = ${service}`;
      expect(row!.n).toBe(5);
      expect(qstash.dlq).toHaveLength(0);
      const again = (await run(tsx, ['shared/cli/dlq.ts', 'replay'], { cwd: projectRoot, env })).stdout;
      expect(again).not.toContain(`#${letter!.id}:`);
      expect(again).not.toContain(dlqId);
    } finally {
      await qstash.stop();
    }
  }, 60_000);
});
