-- migrate:up
-- A partition whose rows are past every retention leaves its table at once (detached, renamed
-- purged_<name>), and its files are dropped by the next retention run, on a connection of its own
-- while that run moves and purges its own day. Handing a day's files back to the file system is
-- most of a run's cost; this way it overlaps the run's catalog work instead of following it, and
-- never happens while a lock on a table that ingest or a query uses is held.

-- Takes one partition out of its table: a leaf is detached and renamed purged_<name>; a
-- partitioned one (a day split by class) has each leaf taken out, and is then dropped (no files).
-- A purged_ table left with the same name (the same day purged twice before a run freed it) is
-- dropped first.
CREATE FUNCTION logging.purge_partition(p regclass) RETURNS void
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

-- migrate:down
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT oid::regclass AS rel FROM pg_class
             WHERE relnamespace = 'logging'::regnamespace AND relkind = 'r' AND relname LIKE 'purged\_%' LOOP
        EXECUTE format('DROP TABLE %s', r.rel);
    END LOOP;
END $$;
DROP FUNCTION logging.purge_partition(regclass);
