-- migrate:up
-- Archive tables: the same columns, partitioned by the same UTC days. Days arrive here whole (a
-- day's rows that a longer-lived class keeps) and leave whole (DROP of an expired day).
CREATE TABLE logging.archived_system_logs (LIKE logging.system_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE ("timestamp");
ALTER TABLE logging.archived_system_logs ADD PRIMARY KEY (id, "timestamp");
CREATE INDEX idx_archived_system_logs_timestamp ON logging.archived_system_logs ("timestamp");
CREATE INDEX idx_archived_system_logs_service_timestamp ON logging.archived_system_logs (service, "timestamp");
CREATE INDEX idx_archived_system_logs_level ON logging.archived_system_logs (level);
CREATE INDEX idx_archived_system_logs_correlation ON logging.archived_system_logs (correlation_id);
CREATE INDEX idx_archived_system_logs_event_type ON logging.archived_system_logs (event_type);

CREATE TABLE logging.archived_performance_logs (LIKE logging.performance_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE ("timestamp");
ALTER TABLE logging.archived_performance_logs ADD PRIMARY KEY (id, "timestamp");
CREATE INDEX idx_archived_performance_logs_timestamp ON logging.archived_performance_logs ("timestamp");
CREATE INDEX idx_archived_performance_logs_service_timestamp ON logging.archived_performance_logs (service, "timestamp");
CREATE INDEX idx_archived_performance_logs_correlation ON logging.archived_performance_logs (correlation_id);

-- A lease instead of an advisory lock (Hyperdrive has none): one retention run at a time; a run
-- that dies leaves a lease that expires.
CREATE TABLE logging.job_leases (
    name       text        PRIMARY KEY,
    holder     uuid        NOT NULL,
    expires_at timestamptz NOT NULL
);

-- migrate:down
DROP TABLE logging.job_leases;
DROP TABLE logging.archived_performance_logs;
DROP TABLE logging.archived_system_logs;
