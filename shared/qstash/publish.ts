/**
 * The Worker's side of the QStash fallback: publishing a batch the database cannot take now, and
 * verifying what QStash delivers back.
 */
import { Client, Receiver } from '@upstash/qstash';
import type { LogRow, MetricRow } from '../ingest/sql';
import type { Config } from '../env';
import { ApiError } from '../api/errors';
import { sha256Hex } from '../hash';

export const REPLAY_PATH = '/v1/replay';
export const REPLAY_FAILED_PATH = '/v1/replay/failed';

/** What a replay message carries: validated rows with the ids and timestamps the server fixed. */
export interface ReplayBatch {
  v: 1;
  logs: LogRow[];
  metrics: MetricRow[];
}

export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(`the fallback queue cannot take the batch: ${reason}`, options);
  }
}

/** Splits a batch into replay messages of at most `maxBytes` each (a single oversized row goes alone). */
export function splitBatch(logs: LogRow[], metrics: MetricRow[], maxBytes: number): string[] {
  const overhead = '{"v":1,"logs":[],"metrics":[]}'.length;
  const bodies: string[] = [];
  let cur: { logs: string[]; metrics: string[] } = { logs: [], metrics: [] };
  let size = overhead;
  const flush = () => {
    if (cur.logs.length + cur.metrics.length === 0) return;
    bodies.push(`{"v":1,"logs":[${cur.logs.join(',')}],"metrics":[${cur.metrics.join(',')}]}`);
    cur = { logs: [], metrics: [] };
    size = overhead;
  };
  const add = (kind: 'logs' | 'metrics', row: LogRow | MetricRow) => {
    const json = JSON.stringify(row);
    const bytes = new TextEncoder().encode(json).length + 1;
    if (size + bytes > maxBytes) flush();
    cur[kind].push(json);
    size += bytes;
  };
  logs.forEach((r) => add('logs', r));
  metrics.forEach((r) => add('metrics', r));
  flush();
  return bodies;
}

export function publicBase(config: Config, requestUrl: string): string {
  return (config.PUBLIC_URL ?? new URL(requestUrl).origin).replace(/\/+$/, '');
}

/**
 * Publishes the rows to QStash for delivery to /v1/replay, split to QStash's message size, each
 * message deduplicated by the sha-256 of its body (a client resending the same batch during the
 * outage publishes nothing new). Returns the number of messages. Throws QueueUnavailableError.
 */
export async function publishForReplay(config: Config, base: string, logs: LogRow[], metrics: MetricRow[]): Promise<number> {
  if (!config.QSTASH_TOKEN) throw new QueueUnavailableError('QSTASH_TOKEN is not configured');
  const client = new Client({ token: config.QSTASH_TOKEN, baseUrl: config.QSTASH_URL, retry: { retries: 2, backoff: (n) => 100 * 2 ** n } });
  const bodies = splitBatch(logs, metrics, config.QSTASH_MAX_MESSAGE_BYTES);
  try {
    await Promise.all(
      bodies.map(async (body) =>
        client.publish({
          url: `${base}${REPLAY_PATH}`,
          body,
          headers: { 'Content-Type': 'application/json' },
          deduplicationId: await sha256Hex(body),
          retries: config.QSTASH_RETRIES,
          failureCallback: `${base}${REPLAY_FAILED_PATH}`,
        }),
      ),
    );
  } catch (error) {
    throw new QueueUnavailableError((error as Error).message, { cause: error });
  }
  return bodies.length;
}

/**
 * Verifies `Upstash-Signature` on the raw body with the SDK's Receiver (current key, then next),
 * including that the token was made for this exact URL. Fails closed when the keys are unset.
 */
export async function verifyQStashSignature(config: Config, signature: string | undefined, body: string, url: string): Promise<void> {
  if (!config.QSTASH_CURRENT_SIGNING_KEY || !config.QSTASH_NEXT_SIGNING_KEY) {
    throw new ApiError('REPLAY_DISABLED', 'replay is disabled: QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY are not configured');
  }
  if (!signature) throw new ApiError('UNAUTHORIZED', 'missing Upstash-Signature header');
  const receiver = new Receiver({ currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY, nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY });
  try {
    await receiver.verify({ signature, body, url, clockTolerance: 5 });
  } catch (error) {
    throw new ApiError('UNAUTHORIZED', `invalid Upstash-Signature: ${(error as Error).message}`);
  }
}
