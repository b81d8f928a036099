-- migrate:up
-- Retention by partition, with no row copied. Each day of system_logs is split by retention
-- class: 'extended' (ERROR and CRITICAL, and event_type trading: the classes the seed keeps for
-- 90 days) and 'standard' (the rest, kept 30 days). When a day reaches archive age, its extended
-- partition is detached and attached to archived_system_logs, and the rest of the day is dropped.
-- Both are catalog operations, whatever the day holds. For ATTACH to neither scan the rows nor
-- build an index:
--   * every leaf carries a CHECK of its day's bounds, which implies its place in the archive;
--   * the active and the archive table have the same columns, constraints and indexes, so the
--     moved partition's indexes are adopted as they are.
-- The existing rows are copied into the new layout once, here.

-- The class of a row. The retention job decides, from the policy, what each class's partition
-- becomes at archive age; this only sorts rows.
CREATE FUNCTION logging.retention_class(p_level text, p_event_type text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_level IN ('ERROR', 'CRITICAL') OR p_event_type = 'trading' THEN 'extended' ELSE 'standard' END
$$;

-- The current tables and all their partitions move aside, to be copied from and then dropped.
CREATE SCHEMA logging_v1;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT t.relid::regclass AS rel FROM unnest(ARRAY['logging.system_logs', 'logging.archived_system_logs']) AS root(name),
             LATERAL pg_partition_tree(root.name::regclass) t
             ORDER BY t.level DESC LOOP
        EXECUTE format('ALTER TABLE %s SET SCHEMA logging_v1', r.rel);
    END LOOP;
END $$;

CREATE TABLE logging.system_logs (
    id              uuid         NOT NULL,
    service         varchar(50)  NOT NULL,
    level           varchar(20)  NOT NULL CONSTRAINT system_logs_level_check CHECK (level IN ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')),
    message         text         NOT NULL,
    data            jsonb,
    correlation_id  varchar(100),
    event_type      varchar(50),
    "timestamp"     timestamptz  NOT NULL DEFAULT now(),
    received_at     timestamptz  NOT NULL DEFAULT now(),
    -- Set by the writer to logging.retention_class(level, event_type); the check makes sure no row
    -- sits in a class that would drop it too early.
    retention_class varchar(10)  NOT NULL CONSTRAINT system_logs_retention_class_check CHECK (retention_class = logging.retention_class(level, event_type)),
    PRIMARY KEY (id, "timestamp", retention_class)
) PARTITION BY RANGE ("timestamp");

CREATE TABLE logging.archived_system_logs (LIKE logging.system_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE ("timestamp");
ALTER TABLE logging.archived_system_logs ADD PRIMARY KEY (id, "timestamp", retention_class);

-- One index list for both tables (see above). The seed's (timestamp) and (service, timestamp)
-- indexes are extended with the columns newest-first pages sort by; the seed's (service) index is
-- left out: it is the leading column of the (service, timestamp, id) one, which serves the same
-- lookups, and every extra index costs each insert and each premade partition.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['system_logs', 'archived_system_logs'] LOOP
        EXECUTE format('CREATE INDEX idx_%1$s_timestamp ON logging.%1$I ("timestamp" DESC, id DESC)', t);
        EXECUTE format('CREATE INDEX idx_%1$s_service_timestamp ON logging.%1$I (service, "timestamp" DESC, id DESC)', t);
        EXECUTE format('CREATE INDEX idx_%1$s_level ON logging.%1$I (level)', t);
        EXECUTE format('CREATE INDEX idx_%1$s_correlation ON logging.%1$I (correlation_id)', t);
        EXECUTE format('CREATE INDEX idx_%1$s_event_type ON logging.%1$I (event_type)', t);
        EXECUTE format('CREATE INDEX idx_%1$s_data ON logging.%1$I USING gin (data jsonb_path_ops)', t);
        EXECUTE format('CREATE INDEX idx_%1$s_message_trgm ON logging.%1$I USING gin (message gin_trgm_ops)', t);
    END LOOP;
END $$;

CREATE TABLE logging.system_logs_default PARTITION OF logging.system_logs DEFAULT;

-- Creates <table>_pYYYYMMDD for one UTC day if it does not exist yet; for the system log tables it
-- is split into <day>_standard and <day>_extended. Each leaf carries the day's bounds as a CHECK.
-- Rows of that day waiting in the default partition are moved into it in the same transaction.
-- The day is built on its own and then attached: ATTACH takes a lock that lets ingest go on.
-- Returns true when it created the day.
CREATE OR REPLACE FUNCTION logging.ensure_day_partition(p_table text, p_day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    part    text        := format('%s_p%s', p_table, to_char(p_day, 'YYYYMMDD'));
    dflt    text        := p_table || '_default';
    lo      timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    hi      timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    bounds  text        := format('CONSTRAINT day_bounds CHECK ("timestamp" >= %L AND "timestamp" < %L)', lo, hi);
    split   boolean     := p_table IN ('system_logs', 'archived_system_logs');
    cls     text;
BEGIN
    IF p_table NOT IN ('system_logs', 'performance_logs', 'archived_system_logs', 'archived_performance_logs') THEN
        RAISE EXCEPTION 'ensure_day_partition: unknown table %', p_table;
    END IF;
    -- Runs that premake the same day at once queue here (the lock ATTACH takes anyway; ingest goes
    -- on), so the second one finds the day made instead of racing to create the same name.
    EXECUTE format('LOCK TABLE logging.%I IN SHARE UPDATE EXCLUSIVE MODE', p_table);
    IF to_regclass(format('logging.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF split THEN
        EXECUTE format('CREATE TABLE logging.%I (LIKE logging.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST (retention_class)', part, p_table);
        FOREACH cls IN ARRAY ARRAY['standard', 'extended'] LOOP
            EXECUTE format('CREATE TABLE logging.%I PARTITION OF logging.%I (%s) FOR VALUES IN (%L)', part || '_' || cls, part, bounds, cls);
        END LOOP;
    ELSE
        EXECUTE format('CREATE TABLE logging.%I (LIKE logging.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS, %s)', part, p_table, bounds);
    END IF;
    IF to_regclass(format('logging.%I', dflt)) IS NOT NULL THEN
        -- No row of this day may slip into the default partition between the move and the attach.
        EXECUTE format('LOCK TABLE logging.%I IN SHARE ROW EXCLUSIVE MODE', dflt);
        EXECUTE format('WITH moved AS (DELETE FROM logging.%I WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *) '
                       'INSERT INTO logging.%I SELECT * FROM moved', dflt, part) USING lo, hi;
    END IF;
    EXECUTE format('ALTER TABLE logging.%I ATTACH PARTITION logging.%I FOR VALUES FROM (%L) TO (%L)', p_table, part, lo, hi);
    RETURN true;
END;
$$;

-- Every day the old tables had, then their rows.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.relname AS parent, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace
             WHERE n.nspname = 'logging_v1' AND c.relname ~ '_p[0-9]{8}$' LOOP
        PERFORM logging.ensure_day_partition(r.parent, r.day);
    END LOOP;
END $$;

INSERT INTO logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", received_at, retention_class)
SELECT id, service, level, message, data, correlation_id, event_type, "timestamp", received_at, logging.retention_class(level, event_type)
FROM logging_v1.system_logs;
INSERT INTO logging.archived_system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", received_at, retention_class)
SELECT id, service, level, message, data, correlation_id, event_type, "timestamp", received_at, logging.retention_class(level, event_type)
FROM logging_v1.archived_system_logs;

DROP SCHEMA logging_v1 CASCADE;

-- Performance log days get their bounds CHECK too (a day moves whole when the policy keeps it).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname AS part, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace
             WHERE n.nspname = 'logging' AND p.relname IN ('performance_logs', 'archived_performance_logs') AND c.relname ~ '_p[0-9]{8}$' LOOP
        EXECUTE format('ALTER TABLE logging.%I ADD CONSTRAINT day_bounds CHECK ("timestamp" >= %L AND "timestamp" < %L)', r.part,
                       r.day::timestamp AT TIME ZONE 'UTC', (r.day + 1)::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END $$;

SELECT logging.ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 14);

-- migrate:down
-- Back to one partition per day and no class column, keeping every row.
CREATE SCHEMA logging_v2;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT t.relid::regclass AS rel FROM unnest(ARRAY['logging.system_logs', 'logging.archived_system_logs']) AS root(name),
             LATERAL pg_partition_tree(root.name::regclass) t
             ORDER BY t.level DESC LOOP
        EXECUTE format('ALTER TABLE %s SET SCHEMA logging_v2', r.rel);
    END LOOP;
END $$;

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
CREATE INDEX idx_system_logs_timestamp_id ON logging.system_logs ("timestamp" DESC, id DESC);
CREATE INDEX idx_system_logs_service_timestamp_id ON logging.system_logs (service, "timestamp" DESC, id DESC);
CREATE INDEX idx_system_logs_data ON logging.system_logs USING gin (data jsonb_path_ops);
CREATE INDEX idx_system_logs_message_trgm ON logging.system_logs USING gin (message gin_trgm_ops);
CREATE TABLE logging.system_logs_default PARTITION OF logging.system_logs DEFAULT;

CREATE TABLE logging.archived_system_logs (LIKE logging.system_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE ("timestamp");
ALTER TABLE logging.archived_system_logs ADD PRIMARY KEY (id, "timestamp");
CREATE INDEX idx_archived_system_logs_timestamp ON logging.archived_system_logs ("timestamp");
CREATE INDEX idx_archived_system_logs_service_timestamp ON logging.archived_system_logs (service, "timestamp");
CREATE INDEX idx_archived_system_logs_level ON logging.archived_system_logs (level);
CREATE INDEX idx_archived_system_logs_correlation ON logging.archived_system_logs (correlation_id);
CREATE INDEX idx_archived_system_logs_event_type ON logging.archived_system_logs (event_type);
CREATE INDEX idx_archived_system_logs_service_timestamp_id ON logging.archived_system_logs (service, "timestamp" DESC, id DESC);
CREATE INDEX idx_archived_system_logs_timestamp_id ON logging.archived_system_logs ("timestamp" DESC, id DESC);
CREATE INDEX idx_archived_system_logs_data ON logging.archived_system_logs USING gin (data jsonb_path_ops);

CREATE OR REPLACE FUNCTION logging.ensure_day_partition(p_table text, p_day date) RETURNS boolean
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
        EXECUTE format('LOCK TABLE logging.%I IN SHARE ROW EXCLUSIVE MODE', dflt);
        EXECUTE format('CREATE TABLE logging.%I (LIKE logging.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, p_table);
        EXECUTE format('WITH moved AS (DELETE FROM logging.%I WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *) '
                       'INSERT INTO logging.%I SELECT * FROM moved', dflt, part) USING lo, hi;
        EXECUTE format('ALTER TABLE logging.%I ATTACH PARTITION logging.%I %s', p_table, part, bounds);
    END IF;
    RETURN true;
EXCEPTION WHEN duplicate_table THEN
    RETURN false;
END;
$$;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.relname AS parent, c.relname AS part, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace
             WHERE n.nspname = 'logging_v2' AND p.relname IN ('system_logs', 'archived_system_logs') AND c.relname ~ '_p[0-9]{8}$' LOOP
        EXECUTE format('CREATE TABLE logging.%I PARTITION OF logging.%I FOR VALUES FROM (%L) TO (%L)', r.part, r.parent,
                       r.day::timestamp AT TIME ZONE 'UTC', (r.day + 1)::timestamp AT TIME ZONE 'UTC');
    END LOOP;
    FOR r IN SELECT c.relname AS part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace
             WHERE n.nspname = 'logging' AND p.relname IN ('performance_logs', 'archived_performance_logs') LOOP
        EXECUTE format('ALTER TABLE logging.%I DROP CONSTRAINT IF EXISTS day_bounds', r.part);
    END LOOP;
END $$;

INSERT INTO logging.system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", received_at)
SELECT id, service, level, message, data, correlation_id, event_type, "timestamp", received_at FROM logging_v2.system_logs;
INSERT INTO logging.archived_system_logs (id, service, level, message, data, correlation_id, event_type, "timestamp", received_at)
SELECT id, service, level, message, data, correlation_id, event_type, "timestamp", received_at FROM logging_v2.archived_system_logs;

DROP SCHEMA logging_v2 CASCADE;
DROP FUNCTION logging.retention_class(text, text);
