import { recordDeadLetter } from '../../shared/db/dead-letters';
import { isTransientDbError } from '../../shared/db/transient';
import { insertBatch } from '../../shared/ingest/sql';
import { ApiError } from '../../shared/api/errors';
import { trustedPolicy, validateBatch } from '../../shared/ingest/validate';
import { publicBase, REPLAY_FAILED_PATH, REPLAY_PATH, verifyQStashSignature } from '../../shared/qstash/publish';
import type { App } from '../types';

const MAX_REPLAY_BYTES = 10 * 1024 * 1024;

export interface ReplayResponse {
  stored: number;
  duplicates: number;
  /** Set when the batch can never be stored as it is: it was kept in logging.dead_letters. */
  deadLettered?: boolean;
}

async function rawBody(request: Request): Promise<string> {
  const text = await request.text();
  if (text.length > MAX_REPLAY_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', `replay body exceeds ${MAX_REPLAY_BYTES} bytes`);
  return text;
}

/**
 * POST /v1/replay: QStash delivering a batch the database could not take at ingest. Signed
 * (verified on the raw body before anything else). Stored idempotently: a re-delivered batch adds
 * no row. 503 while the database is still down, so QStash retries later; a batch that can never be
 * stored is kept in logging.dead_letters and answered 200, so it does not burn retries.
 *
 * POST /v1/replay/failed: QStash's failure callback once a replay exhausted its retries; the batch
 * is kept in logging.dead_letters (503 while the database is down, so the callback is retried).
 */
export function registerReplay(app: App) {
  app.post(REPLAY_PATH, async (c) => {
    const config = c.get('config');
    const body = await rawBody(c.req.raw);
    await verifyQStashSignature(config, c.req.header('upstash-signature'), body, `${publicBase(config, c.req.url)}${REPLAY_PATH}`);
    const messageId = c.req.header('upstash-message-id') ?? null;
    const sql = c.get('sql');
    const deadLetter = async (reason: string) => {
      await recordDeadLetter(sql, { kind: 'unstorable', sourceMessageId: messageId, payload: body, reason });
      c.get('logger').error('replay batch cannot be stored; kept in dead_letters', { message_id: messageId, reason });
      return c.json<ReplayResponse>({ stored: 0, duplicates: 0, deadLettered: true });
    };

    let parsed: { logs?: unknown[]; metrics?: unknown[] };
    try {
      parsed = JSON.parse(body);
      if (!Array.isArray(parsed.logs ?? []) || !Array.isArray(parsed.metrics ?? [])) throw new Error('logs and metrics must be arrays');
    } catch (error) {
      return deadLetter(`not a replay batch: ${(error as Error).message}`);
    }
    // Validated again (without the age limits: a replay may arrive days later), ids kept.
    const batch = validateBatch(parsed, trustedPolicy());
    if (batch.rejected.length > 0) {
      return deadLetter(`records refused: ${JSON.stringify(batch.rejected).slice(0, 2000)}`);
    }
    try {
      const result = await insertBatch(sql, batch.logs, batch.metrics);
      const stored = result.logsInserted + result.metricsInserted;
      return c.json<ReplayResponse>({ stored, duplicates: batch.logs.length + batch.metrics.length - stored });
    } catch (error) {
      if (isTransientDbError(error)) throw error; // 503: QStash retries with its backoff
      return deadLetter(`database refused the batch: ${(error as Error).message}`);
    }
  });

  app.post(REPLAY_FAILED_PATH, async (c) => {
    const config = c.get('config');
    const body = await rawBody(c.req.raw);
    await verifyQStashSignature(config, c.req.header('upstash-signature'), body, `${publicBase(config, c.req.url)}${REPLAY_FAILED_PATH}`);
    let callback: { sourceMessageId?: string; dlqId?: string; sourceBody?: string; status?: number; body?: string; retried?: number };
    try {
      callback = JSON.parse(body);
    } catch {
      throw new ApiError('BAD_REQUEST', 'failure callback body is not JSON');
    }
    const payload = callback.sourceBody ? new TextDecoder().decode(Uint8Array.from(atob(callback.sourceBody), (ch) => ch.charCodeAt(0))) : body;
    const lastAnswer = callback.body ? atob(callback.body).slice(0, 500) : '';
    await recordDeadLetter(c.get('sql'), {
      kind: 'retries_exhausted',
      sourceMessageId: callback.sourceMessageId ?? null,
      dlqId: callback.dlqId ?? null,
      payload,
      reason: `QStash gave up after ${callback.retried ?? '?'} retries; last answer ${callback.status ?? '?'} ${lastAnswer}`,
    });
    c.get('logger').error('replay exhausted its retries; batch kept in dead_letters', { message_id: callback.sourceMessageId, dlq_id: callback.dlqId });
    return c.json({ kept: true });
  });
}
