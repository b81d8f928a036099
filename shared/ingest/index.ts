/**
 * Ingest: a request's records validated one by one (a bad record costs only itself), sanitised
 * for what Postgres refuses, and written in one bulk statement, idempotently by id. Also the
 * service's own logging, which writes through the same path.
 */
export { emptyTally, recordIngestTally, type IngestTally } from './counters';
export { BodyError, readBodyBytes, readTextBody, type ReadBodyOptions } from './body';
export { mayNeedSanitizing, sanitize } from './sanitize';
export { insertBatch, type InsertResult } from './sql';
export { InvalidBatchError, storeTrusted, type Stored } from './store';
export { createServiceLogging, DatabaseSink, SERVICE_NAME } from './service-logging';
export type { LogRow, MetricRow } from './types';
export { trustedPolicy, validateBatch, type ValidatedBatch, type ValidationPolicy } from './validate';
