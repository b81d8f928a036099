/**
 * POST /v1/replay: QStash delivering a batch the database could not take at ingest. Signed
 * (verified on the raw body before anything else). Stored idempotently: a re-delivered batch adds
 * no row. 503 while the database is still down, so QStash retries later; a batch that can never be
 * stored is kept in logging.dead_letters and answered 200, so it does not burn retries.
 *
 * POST /v1/replay/failed: QStash's failure callback once a replay exhausted its retries; the batch
 * is kept in logging.dead_letters (503 while the database is down, so the callback is retried).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError, errorResponses } from '../../shared/api';
import { recordDeadLetter } from '../../shared/db/dead-letters';
import { isTransientDbError } from '../../shared/db/transient';
import { InvalidBatchError, storeTrusted } from '../../shared/ingest';
import { REPLAY_FAILED_PATH, REPLAY_PATH } from '../../shared/qstash';
import { signedBody } from '../middleware/signed';
import type { App, AppEnv } from '../types';

const ReplayResponseSchema = z
  .object({
    stored: z.number().int(),
    duplicates: z.number().int(),
    deadLettered: z
      .boolean()
      .optional()
      .openapi({ description: 'Set when the batch can never be stored as it is: it was kept in logging.dead_letters' }),
  })
  .openapi('ReplayResponse');
export type ReplayResponse = z.infer<typeof ReplayResponseSchema>;

const KeptSchema = z.object({ kept: z.literal(true) });
export type KeptResponse = z.infer<typeof KeptSchema>;

const signed = { headers: z.object({ 'upstash-signature': z.string() }) };
const errors = errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE', 'DATABASE_UNAVAILABLE', 'REPLAY_DISABLED');

/** Documented only: the signature is verified on the raw body, before anything parses it. */
const replayRoute = createRoute({
  method: 'post',
  path: REPLAY_PATH,
  description: 'QStash delivering a queued batch (Upstash-Signature required). 503 while the database is down.',
  request: signed,
  responses: {
    200: { description: 'Stored, or kept as a dead letter', content: { 'application/json': { schema: ReplayResponseSchema } } },
    ...errors,
  },
});

const failedRoute = createRoute({
  method: 'post',
  path: REPLAY_FAILED_PATH,
  description: "QStash's failure callback: the batch is kept in logging.dead_letters.",
  request: signed,
  responses: { 200: { description: 'Kept', content: { 'application/json': { schema: KeptSchema } } }, ...errors },
});

function parseReplayBatch(body: string): { logs?: unknown[]; metrics?: unknown[] } {
  const parsed = JSON.parse(body) as { logs?: unknown[]; metrics?: unknown[] };
  if (!Array.isArray(parsed.logs ?? []) || !Array.isArray(parsed.metrics ?? [])) throw new Error('logs and metrics must be arrays');
  return parsed;
}

async function replay(c: Context<AppEnv>) {
  const body = await signedBody(c, REPLAY_PATH);
  const messageId = c.req.header('upstash-message-id') ?? null;
  const sql = c.get('sql');
  const deadLetter = async (reason: string) => {
    await recordDeadLetter(sql, { kind: 'unstorable', sourceMessageId: messageId, payload: body, reason });
    c.get('logger').error('replay batch cannot be stored; kept in dead_letters', { message_id: messageId, reason });
    return c.json<ReplayResponse>({ stored: 0, duplicates: 0, deadLettered: true });
  };
  let batch: { logs?: unknown[]; metrics?: unknown[] };
  try {
    batch = parseReplayBatch(body);
  } catch (error) {
    return deadLetter(`not a replay batch: ${(error as Error).message}`);
  }
  try {
    // Validated again (without the age limits: a replay may arrive days later), ids kept.
    const { stored, duplicates } = await storeTrusted(sql, batch, { allOrNothing: true });
    return c.json<ReplayResponse>({ stored, duplicates });
  } catch (error) {
    if (error instanceof InvalidBatchError) return deadLetter(`records refused: ${JSON.stringify(error.rejected).slice(0, 2000)}`);
    if (isTransientDbError(error)) throw error; // 503: QStash retries with its backoff
    return deadLetter(`database refused the batch: ${(error as Error).message}`);
  }
}

interface FailureCallback {
  sourceMessageId?: string;
  dlqId?: string;
  sourceBody?: string;
  status?: number;
  body?: string;
  retried?: number;
}

async function replayFailed(c: Context<AppEnv>) {
  const body = await signedBody(c, REPLAY_FAILED_PATH);
  let callback: FailureCallback;
  try {
    callback = JSON.parse(body);
  } catch {
    throw new ApiError('BAD_REQUEST', 'failure callback body is not JSON');
  }
  const payload = callback.sourceBody
    ? new TextDecoder().decode(Uint8Array.from(atob(callback.sourceBody), (ch) => ch.charCodeAt(0)))
    : body;
  const lastAnswer = callback.body ? atob(callback.body).slice(0, 500) : '';
  await recordDeadLetter(c.get('sql'), {
    kind: 'retries_exhausted',
    sourceMessageId: callback.sourceMessageId ?? null,
    dlqId: callback.dlqId ?? null,
    payload,
    reason: `QStash gave up after ${callback.retried ?? '?'} retries; last answer ${callback.status ?? '?'} ${lastAnswer}`,
  });
  c.get('logger').error('replay exhausted its retries; batch kept in dead_letters', {
    message_id: callback.sourceMessageId,
    dlq_id: callback.dlqId,
  });
  return c.json<KeptResponse>({ kept: true });
}

export function registerReplay(app: App) {
  app.openAPIRegistry.registerPath(replayRoute);
  app.openAPIRegistry.registerPath(failedRoute);
  app.post(REPLAY_PATH, replay);
  app.post(REPLAY_FAILED_PATH, replayFailed);
}
