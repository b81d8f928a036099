import type { SendResult, Sink } from '../logging/sink';
import { toJsonSafe } from '../logging/sink';
import type { IngestRequest } from '../api/wire';
import { trustedPolicy, validateBatch } from './validate';
import type { Sql } from '../db/client';
import { isTransientDbError } from '../db/transient';
import { insertBatch } from './sql';

/**
 * A logging Sink that writes straight into the log tables, for the service's own logs (its
 * functions cannot POST to themselves). Records are validated like ingested ones; the service
 * may log for any service name.
 *
 * @example
 * const logging = createLogging({ sink: new DatabaseSink(sql), service: 'log_ingest' });
 * ctx.waitUntil(logging.flush());
 */
export class DatabaseSink implements Sink {
  constructor(private readonly sql: Sql) {}

  async send(batch: IngestRequest): Promise<SendResult> {
    const envelope = JSON.parse(toJsonSafe(batch)) as { logs?: unknown[]; metrics?: unknown[] };
    const valid = validateBatch(envelope, trustedPolicy());
    try {
      await insertBatch(this.sql, valid.logs, valid.metrics);
      return { ok: true, rejected: valid.rejected };
    } catch (error) {
      return { ok: false, retryable: isTransientDbError(error), reason: `database: ${(error as Error).message}` };
    }
  }
}
