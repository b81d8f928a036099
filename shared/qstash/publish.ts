/**
 * Publishing to QStash: the fallback for a batch the database cannot take now, delivered back to
 * REPLAY_PATH until the database takes it.
 */
import { Client } from '@upstash/qstash';
import type { Settings } from '../env';
import { sha256Hex } from '../hash';

export const REPLAY_PATH = '/v1/replay';
export const REPLAY_FAILED_PATH = '/v1/replay/failed';

/** A stored row as it travels: validated, with the id and timestamp the server fixed. */
type Row = object;

/** What a replay message carries. */
export interface ReplayBatch<L extends Row = Row, M extends Row = Row> {
  v: 1;
  logs: L[];
  metrics: M[];
}

export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the fallback queue cannot take the batch: ${reason}`, options);
  }
}

/** Splits a batch into replay messages of at most `maxBytes` each (a single oversized row goes alone). */
export function splitBatch(logs: readonly Row[], metrics: readonly Row[], maxBytes: number): string[] {
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
  const add = (kind: 'logs' | 'metrics', row: Row) => {
    const json = JSON.stringify(row);
    const bytes = new TextEncoder().encode(json).length + 1;
    if (size + bytes > maxBytes) flush();
    cur[kind].push(json);
    size += bytes;
  };
  for (const r of logs) add('logs', r);
  for (const r of metrics) add('metrics', r);
  flush();
  return bodies;
}

export function publicBase(config: Settings, requestUrl: string): string {
  return (config.PUBLIC_URL ?? new URL(requestUrl).origin).replace(/\/+$/, '');
}

/**
 * Publishes the rows to QStash for delivery to /v1/replay, split to QStash's message size, each
 * message deduplicated by the sha-256 of its body (a client resending the same batch during the
 * outage publishes nothing new). Returns the number of messages. Throws QueueUnavailableError.
 */
export async function publishForReplay(config: Settings, base: string, logs: readonly Row[], metrics: readonly Row[]): Promise<number> {
  if (!config.QSTASH_TOKEN) throw new QueueUnavailableError('QSTASH_TOKEN is not configured');
  const client = new Client({
    token: config.QSTASH_TOKEN,
    baseUrl: config.QSTASH_URL,
    retry: { retries: 2, backoff: (n) => 100 * 2 ** n },
  });
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

export const DELIVER_PATH = '/v1/alerts/deliver';
export const DELIVER_FAILED_PATH = '/v1/alerts/deliver/failed';

/**
 * Publishes outbox rows for delivery to DELIVER_PATH, each under its id as QStash's
 * deduplication id (the outbox stays the ledger: QStash deduplicates for a limited window only).
 * Returns the ids QStash took; a row it did not take stays in the outbox for the next run.
 */
export async function publishDeliveries(config: Settings, base: string, ids: readonly string[]): Promise<string[]> {
  if (!config.QSTASH_TOKEN) throw new QueueUnavailableError('QSTASH_TOKEN is not configured');
  const client = new Client({
    token: config.QSTASH_TOKEN,
    baseUrl: config.QSTASH_URL,
    retry: { retries: 2, backoff: (n) => 100 * 2 ** n },
  });
  const results = await Promise.allSettled(
    ids.map((id) =>
      client.publish({
        url: `${base}${DELIVER_PATH}`,
        body: JSON.stringify({ id }),
        headers: { 'Content-Type': 'application/json' },
        deduplicationId: id,
        retries: config.QSTASH_RETRIES,
        failureCallback: `${base}${DELIVER_FAILED_PATH}`,
      }),
    ),
  );
  return ids.filter((_, i) => results[i]!.status === 'fulfilled');
}
