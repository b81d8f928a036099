import type { RejectedRecord } from '../api/wire';
import type { Sql } from '../db/client';
import { insertBatch } from './sql';
import { trustedPolicy, validateBatch } from './validate';

export interface Stored {
  stored: number;
  /** Valid records that were stored already (same id and timestamp). */
  duplicates: number;
  rejected: RejectedRecord[];
}

/**
 * Stores records that were validated once already (replays, dead letters) or that the service
 * writes itself: validated again under the trusted policy (any service, no age limits), ids kept,
 * so storing the same batch twice adds nothing. With `allOrNothing`, a batch with any invalid
 * record stores nothing and throws InvalidBatchError.
 */
export async function storeTrusted(
  sql: Sql,
  envelope: { logs?: unknown[]; metrics?: unknown[] },
  options: { allOrNothing?: boolean } = {},
): Promise<Stored> {
  const batch = validateBatch(envelope, trustedPolicy());
  if (options.allOrNothing && batch.rejected.length) throw new InvalidBatchError(batch.rejected);
  const result = await insertBatch(sql, batch.logs, batch.metrics);
  const stored = result.logsInserted + result.metricsInserted;
  return { stored, duplicates: batch.logs.length + batch.metrics.length - stored, rejected: batch.rejected };
}

export class InvalidBatchError extends Error {
  override readonly name = 'InvalidBatchError';
  constructor(readonly rejected: RejectedRecord[]) {
    super(`${rejected.length} records are invalid: ${JSON.stringify(rejected).slice(0, 300)}`);
  }
}
