-- migrate:up
CREATE SCHEMA IF NOT EXISTS logging;

-- The seed's tables, with a UUID event id (client- or server-assigned) instead of BIGSERIAL so a
-- record delivered twice is stored once, and range-partitioned by UTC day on "timestamp" so that
-- retention moves and drops whole days. The primary key must include the partition key.
CREATE TABLE logging.system_logs (
    id             uuid         NOT NULL,
    service        varchar(50)  NOT NULL,
    level          varchar(20)  NOT NULL CHECK (level IN ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')),
    message        text         NOT NULL,
    data           jsonb,
    correlation_id varchar(100),
    event_type     varchar(50),
    "timestamp"    timestamptz  NOT NULL DEFAULT now(),
    received_at    timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");

CREATE INDEX idx_system_logs_timestamp         ON logging.system_logs ("timestamp");
CREATE INDEX idx_system_logs_service           ON logging.system_logs (service);
CREATE INDEX idx_system_logs_level             ON logging.system_logs (level);
CREATE INDEX idx_system_logs_correlation       ON logging.system_logs (correlation_id);
CREATE INDEX idx_system_logs_event_type        ON logging.system_logs (event_type);
CREATE INDEX idx_system_logs_service_timestamp ON logging.system_logs (service, "timestamp");

CREATE TABLE logging.performance_logs (
    id                uuid           NOT NULL,
    service           varchar(50)    NOT NULL,
    operation         varchar(100)   NOT NULL,
    execution_time_ms numeric(10, 3) NOT NULL,
    memory_usage_mb   numeric(10, 3),
    cpu_usage_percent numeric(5, 2),
    correlation_id    varchar(100),
    data              jsonb,
    "timestamp"       timestamptz    NOT NULL DEFAULT now(),
    received_at       timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");

CREATE INDEX idx_performance_logs_timestamp         ON logging.performance_logs ("timestamp");
CREATE INDEX idx_performance_logs_service           ON logging.performance_logs (service);
CREATE INDEX idx_performance_logs_operation         ON logging.performance_logs (operation);
CREATE INDEX idx_performance_logs_service_timestamp ON logging.performance_logs (service, "timestamp");
CREATE INDEX idx_performance_logs_correlation       ON logging.performance_logs (correlation_id);

-- Safety net: a record whose day has no partition yet lands here instead of being refused.
-- logging.ensure_day_partition() moves such rows into their day when it creates the day.
CREATE TABLE logging.system_logs_default      PARTITION OF logging.system_logs DEFAULT;
CREATE TABLE logging.performance_logs_default PARTITION OF logging.performance_logs DEFAULT;

-- Creates <table>_pYYYYMMDD for one UTC day if it does not exist yet. Rows of that day that are
-- waiting in the default partition are moved into it in the same transaction, so creating a day
-- never fails because of them and never loses them. Returns true when it created the partition.
CREATE FUNCTION logging.ensure_day_partition(p_table text, p_day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    part       text        := format('%s_p%s', p_table, to_char(p_day, 'YYYYMMDD'));
    dflt       text        := p_table || '_default';
    lo         timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    hi         timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    bounds     text;
    waiting    boolean;
BEGIN
    IF p_table NOT IN ('system_logs', 'performance_logs', 'archived_system_logs', 'archived_performance_logs') THEN
        RAISE EXCEPTION 'ensure_day_partition: unknown table %', p_table;
    END IF;
    IF to_regclass(format('logging.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    bounds := format('FOR VALUES FROM (%L) TO (%L)', lo, hi);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM logging.%I WHERE "timestamp" >= $1 AND "timestamp" < $2)', dflt)
        INTO waiting USING lo, hi;
    IF NOT waiting THEN
        EXECUTE format('CREATE TABLE logging.%I PARTITION OF logging.%I %s', part, p_table, bounds);
    ELSE
        -- Lock the default partition so no row for this day can slip in between move and attach.
        EXECUTE format('LOCK TABLE logging.%I IN SHARE ROW EXCLUSIVE MODE', dflt);
        EXECUTE format('CREATE TABLE logging.%I (LIKE logging.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, p_table);
        EXECUTE format('WITH moved AS (DELETE FROM logging.%I WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *) '
                       'INSERT INTO logging.%I SELECT * FROM moved', dflt, part) USING lo, hi;
        EXECUTE format('ALTER TABLE logging.%I ATTACH PARTITION logging.%I %s', p_table, part, bounds);
    END IF;
    RETURN true;
EXCEPTION WHEN duplicate_table THEN
    RETURN false; -- a concurrent run created it first
END;
$$;

-- Premakes the day partitions of both tables for [p_from, p_to]; returns how many it created.
CREATE FUNCTION logging.ensure_partitions(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d       date;
    created integer := 0;
BEGIN
    FOR d IN SELECT generate_series(p_from, p_to, interval '1 day')::date LOOP
        created := created + logging.ensure_day_partition('system_logs', d)::int
                           + logging.ensure_day_partition('performance_logs', d)::int;
    END LOOP;
    RETURN created;
END;
$$;

SELECT logging.ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 14);

-- API keys: only the sha-256 of a key is stored. service is one service name or '*' for all.
CREATE TABLE logging.api_keys (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    key_hash    text        NOT NULL UNIQUE,
    prefix      text        NOT NULL,
    service     varchar(50) NOT NULL,
    scopes      text[]      NOT NULL DEFAULT '{ingest}',
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- migrate:down
DROP SCHEMA logging CASCADE;
