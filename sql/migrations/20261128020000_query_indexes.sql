-- migrate:up
-- For the query API: newest-first pages on (timestamp, id), structured-field filters by JSONB
-- containment, and message search by trigram.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_system_logs_timestamp_id ON logging.system_logs ("timestamp" DESC, id DESC);
-- Most searches name a service: its rows in page order, filtered as they are read.
CREATE INDEX idx_system_logs_service_timestamp_id ON logging.system_logs (service, "timestamp" DESC, id DESC);
CREATE INDEX idx_archived_system_logs_service_timestamp_id ON logging.archived_system_logs (service, "timestamp" DESC, id DESC);
CREATE INDEX idx_system_logs_data ON logging.system_logs USING gin (data jsonb_path_ops);
CREATE INDEX idx_system_logs_message_trgm ON logging.system_logs USING gin (message gin_trgm_ops);
CREATE INDEX idx_archived_system_logs_timestamp_id ON logging.archived_system_logs ("timestamp" DESC, id DESC);
CREATE INDEX idx_archived_system_logs_data ON logging.archived_system_logs USING gin (data jsonb_path_ops);
CREATE INDEX idx_performance_logs_operation_timestamp ON logging.performance_logs (operation, "timestamp");

-- migrate:down
DROP INDEX logging.idx_performance_logs_operation_timestamp;
DROP INDEX logging.idx_archived_system_logs_data;
DROP INDEX logging.idx_archived_system_logs_timestamp_id;
DROP INDEX logging.idx_system_logs_message_trgm;
DROP INDEX logging.idx_system_logs_data;
DROP INDEX logging.idx_archived_system_logs_service_timestamp_id;
DROP INDEX logging.idx_system_logs_service_timestamp_id;
DROP INDEX logging.idx_system_logs_timestamp_id;
