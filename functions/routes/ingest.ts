import { readTextBody } from '../../shared/ingest/body';
import { isTransientDbError } from '../../shared/db/transient';
import { insertBatch } from '../../shared/ingest/sql';
import { publicBase, publishForReplay, QueueUnavailableError } from '../../shared/qstash/publish';
import { ApiError } from '../../shared/api/errors';
import { validateBatch } from '../../shared/ingest/validate';
import { mayNeedSanitizing } from '../../shared/ingest/sanitize';
import { IngestEnvelopeSchema, toRecordIssues, type IngestResponse } from '../../shared/api/wire';
import { requireKey } from '../middleware/auth';
import { DATABASE_RETRY_AFTER_SECONDS } from '../middleware/errors';
import type { App } from '../types';

/**
 * POST /v1/ingest: a batch of system logs and/or performance metrics (shared/wire.ts).
 * Valid records are stored, invalid ones reported by index (200 with `rejected`); a malformed
 * request as a whole is 400, too large 413, not JSON 415.
 */
export function registerIngest(app: App) {
  app.post('/v1/ingest', requireKey('ingest'), async (c) => {
    const config = c.get('config');
    const contentType = c.req.header('content-type') ?? '';
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got "${contentType || 'none'}"`);
    }
    const text = await readTextBody(c.req.raw, { maxBytes: config.MAX_BODY_BYTES });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ApiError('BAD_REQUEST', `body is not valid JSON: ${(error as Error).message}`);
    }
    const envelope = IngestEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      throw new ApiError('BAD_REQUEST', 'body must be an object with "logs" and/or "metrics" arrays', {
        issues: toRecordIssues(envelope.error),
      });
    }
    const count = (envelope.data.logs?.length ?? 0) + (envelope.data.metrics?.length ?? 0);
    if (count > config.MAX_RECORDS_PER_REQUEST) {
      throw new ApiError('PAYLOAD_TOO_LARGE', `batch has ${count} records; the limit is ${config.MAX_RECORDS_PER_REQUEST} per request`);
    }
    const batch = validateBatch(envelope.data, {
      service: c.get('apiKey').service,
      nowMs: Date.now(),
      maxFutureSkewMs: config.MAX_FUTURE_SKEW_SECONDS * 1000,
      maxAgeMs: config.MAX_RECORD_AGE_DAYS * 86_400_000,
      sanitize: mayNeedSanitizing(text),
    });
    const valid = batch.logs.length + batch.metrics.length;
    let inserted = 0;
    if (valid > 0) {
      try {
        const result = await insertBatch(c.get('sql'), batch.logs, batch.metrics);
        inserted = result.logsInserted + result.metricsInserted;
      } catch (error) {
        if (!isTransientDbError(error)) throw error;
        // The database cannot take it now: hand the validated rows (ids fixed) to QStash, which
        // delivers them to /v1/replay until the database does.
        const logger = c.get('logger');
        try {
          const messages = await publishForReplay(config, publicBase(config, c.req.url), batch.logs, batch.metrics);
          logger.warning('database unavailable; batch queued for replay', { records: valid, messages, error: (error as Error).message });
        } catch (queueError) {
          if (!(queueError instanceof QueueUnavailableError)) throw queueError;
          logger.error('database and queue unavailable; client must retry', { records: valid, db_error: (error as Error).message, queue_error: queueError.reason });
          throw new ApiError('DATABASE_UNAVAILABLE', 'the database is unavailable and the batch could not be queued; retry later', {
            retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
          });
        }
        return c.json<IngestResponse>({ accepted: valid, duplicates: 0, sanitized: batch.sanitized, rejected: batch.rejected, queued: valid }, 202);
      }
    }
    return c.json<IngestResponse>({
      accepted: valid,
      duplicates: valid - inserted,
      sanitized: batch.sanitized,
      rejected: batch.rejected,
    });
  });
}
