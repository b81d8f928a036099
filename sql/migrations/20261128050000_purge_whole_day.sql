-- migrate:up
-- A day split by class is purged whole: detached from its table once and renamed, with its leaves
-- renamed too (so the day can be made again), instead of detaching each leaf from it and dropping
-- it. One detach at the top instead of one per leaf, and the day's partitioned indexes are dropped
-- by the next run (freePurged drops a purged day with its leaves) rather than inside the
-- transaction that holds the table's lock.
CREATE OR REPLACE FUNCTION logging.purge_partition(p regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    child  regclass;
    parent regclass := (SELECT inhparent FROM pg_inherits WHERE inhrelid = p);
BEGIN
    IF parent IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, p);
    END IF;
    -- The day and each of its leaves: a purged_ table of the same name (the same day purged before,
    -- not freed yet) is dropped first, the newer purge replacing it.
    FOR child IN SELECT p UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = p LOOP
        EXECUTE format('DROP TABLE IF EXISTS logging.%I', 'purged_' || (SELECT relname FROM pg_class WHERE oid = child));
        EXECUTE format('ALTER TABLE %s RENAME TO %I', child, 'purged_' || (SELECT relname FROM pg_class WHERE oid = child));
    END LOOP;
END;
$$;

-- migrate:down
-- Purged days in the new shape (a partitioned purged_ table) would not be found by the earlier
-- freeing: drop them now.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT oid::regclass AS rel FROM pg_class
             WHERE relnamespace = 'logging'::regnamespace AND relkind = 'p' AND relname LIKE 'purged\_%' LOOP
        EXECUTE format('DROP TABLE %s', r.rel);
    END LOOP;
END $$;
CREATE OR REPLACE FUNCTION logging.purge_partition(p regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    child  regclass;
    parent regclass := (SELECT inhparent FROM pg_inherits WHERE inhrelid = p);
    purged text     := 'purged_' || (SELECT relname FROM pg_class WHERE oid = p);
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = p) = 'p' THEN
        FOR child IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = p LOOP
            PERFORM logging.purge_partition(child);
        END LOOP;
        EXECUTE format('DROP TABLE %s', p);
        RETURN;
    END IF;
    IF parent IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, p);
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS logging.%I', purged);
    EXECUTE format('ALTER TABLE %s RENAME TO %I', p, purged);
END;
$$;
