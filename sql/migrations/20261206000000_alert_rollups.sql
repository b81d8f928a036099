-- migrate:up
-- Per-minute rollups of the logs and metrics, written by the alert evaluator as it goes, so that
-- an anomaly rule reads a day of minutes (1,440 rows a series) instead of a day of records, and an
-- absence rule the minutes services were last seen in. Kept 8 days (the week-ago band and a margin).

-- Logs per minute by the columns rules filter and group on (event_type '' for none).
CREATE TABLE logging.log_counts_minute (
    minute      timestamptz NOT NULL,
    service     text        NOT NULL,
    level       text        NOT NULL,
    event_type  text        NOT NULL,
    n           integer     NOT NULL,
    PRIMARY KEY (minute, service, level, event_type)
);
CREATE INDEX idx_log_counts_minute_service ON logging.log_counts_minute (service, minute);

-- Latency per minute by (service, operation): exact count, sum and max, and a log-bucket sketch
-- (bucket k holds values in (γ^(k-1), γ^k], γ = 1.01/0.99: 1% relative error) for percentiles.
CREATE TABLE logging.latency_minute (
    minute      timestamptz NOT NULL,
    service     text        NOT NULL,
    operation   text        NOT NULL,
    n           integer     NOT NULL,
    total       float8      NOT NULL,
    max         float8      NOT NULL,
    buckets     integer[]   NOT NULL,
    counts      integer[]   NOT NULL,
    PRIMARY KEY (minute, service, operation)
);
CREATE INDEX idx_latency_minute_service ON logging.latency_minute (service, operation, minute);

-- The minutes the rollups hold, [covered_from, covered_to): one contiguous span, extended forward
-- at every evaluation and backward (backfill) within a time budget.
CREATE TABLE logging.rollup_coverage (
    id            boolean     PRIMARY KEY DEFAULT true CHECK (id),
    covered_from  timestamptz NOT NULL,
    covered_to    timestamptz NOT NULL
);

-- Minutes that received records more than a few minutes after they ended (a QStash replay after
-- an outage, a client's spool): ingest notes them with the batch, the rollups roll them again.
-- No unique key: concurrent batches of the same minutes (a replay) append without waiting on one
-- another; the evaluator takes the distinct minutes and deletes every note of them.
CREATE TABLE logging.late_minutes (
    minute      timestamptz NOT NULL
);
CREATE INDEX idx_late_minutes_minute ON logging.late_minutes (minute);

-- migrate:down
DROP TABLE logging.late_minutes;
DROP TABLE logging.rollup_coverage;
DROP TABLE logging.latency_minute;
DROP TABLE logging.log_counts_minute;
