-- migrate:up
-- Access: per-key rate limits and daily quotas (checked by every host against this one store, so
-- they hold across Worker isolates and host instances), key expiry, rotation and last use.
ALTER TABLE logging.api_keys
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN last_used_at timestamptz,
    -- NULL: the service's default (RATE_LIMIT_RECORDS_PER_SECOND, RATE_LIMIT_REQUESTS_PER_SECOND).
    ADD COLUMN rate_records_per_second integer CHECK (rate_records_per_second > 0),
    ADD COLUMN rate_requests_per_second integer CHECK (rate_requests_per_second > 0),
    -- NULL: no quota.
    ADD COLUMN daily_quota bigint CHECK (daily_quota > 0),
    -- Set on a key replaced by `keys rotate`: the key that replaced it.
    ADD COLUMN rotated_to uuid REFERENCES logging.api_keys (id),
    -- When its expiry was written to the audit trail (once, by the first request that found it expired).
    ADD COLUMN expiry_audited_at timestamptz;

-- One token bucket per key, for records and for requests. Unlogged: after a crash the buckets
-- start full again, which costs at most one burst.
CREATE UNLOGGED TABLE logging.key_buckets (
    key_id   uuid             PRIMARY KEY REFERENCES logging.api_keys (id) ON DELETE CASCADE,
    records  double precision NOT NULL,
    requests double precision NOT NULL,
    at       timestamptz      NOT NULL
);

-- Records accepted per key and UTC day: the quota's count, and the usage `keys list` shows.
CREATE TABLE logging.key_usage (
    key_id  uuid   NOT NULL REFERENCES logging.api_keys (id) ON DELETE CASCADE,
    day     date   NOT NULL,
    records bigint NOT NULL,
    PRIMARY KEY (key_id, day)
);

-- Charges a request of p_records records to a key, atomically: refused (nothing charged) when the
-- request bucket is empty, the record bucket holds fewer than p_records, or the day's quota would
-- be passed. Buckets refill at their rate up to their burst. p_now is the caller's clock, so that
-- tests can cross a UTC midnight. VOLATILE (it writes): Hyperdrive never caches a call of it.
CREATE FUNCTION logging.charge_key(
    p_key uuid, p_records integer, p_now timestamptz,
    p_rate double precision, p_burst double precision,
    p_request_rate double precision, p_request_burst double precision,
    p_quota bigint
) RETURNS TABLE (allowed boolean, reason text, retry_after_ms bigint, used_today bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    b logging.key_buckets;
    elapsed double precision;
    records_left double precision;
    requests_left double precision;
    today date := (p_now AT TIME ZONE 'UTC')::date;
    used bigint;
BEGIN
    INSERT INTO logging.key_buckets VALUES (p_key, p_burst, p_request_burst, p_now) ON CONFLICT DO NOTHING;
    SELECT * INTO b FROM logging.key_buckets WHERE key_id = p_key FOR UPDATE;
    elapsed := greatest(0, extract(epoch FROM p_now - b.at));
    records_left := least(p_burst, b.records + elapsed * p_rate);
    requests_left := least(p_request_burst, b.requests + elapsed * p_request_rate);
    SELECT u.records INTO used FROM logging.key_usage u WHERE u.key_id = p_key AND u.day = today FOR UPDATE;
    used := coalesce(used, 0);
    IF requests_left < 1 THEN
        RETURN QUERY SELECT false, 'requests', ceil((1 - requests_left) / p_request_rate * 1000)::bigint, used;
        RETURN;
    END IF;
    IF records_left < p_records THEN
        RETURN QUERY SELECT false, 'records', ceil((p_records - records_left) / p_rate * 1000)::bigint, used;
        RETURN;
    END IF;
    IF p_quota IS NOT NULL AND used + p_records > p_quota THEN
        RETURN QUERY SELECT false, 'quota',
            ceil(extract(epoch FROM ((today + 1)::timestamp AT TIME ZONE 'UTC') - p_now) * 1000)::bigint, used;
        RETURN;
    END IF;
    UPDATE logging.key_buckets SET records = records_left - p_records, requests = requests_left - 1, at = greatest(b.at, p_now)
    WHERE key_id = p_key;
    INSERT INTO logging.key_usage AS u (key_id, day, records) VALUES (p_key, today, p_records)
    ON CONFLICT (key_id, day) DO UPDATE SET records = u.records + excluded.records
    RETURNING u.records INTO used;
    RETURN QUERY SELECT true, NULL::text, 0::bigint, used;
END
$$;

-- Audit records (event_type 'audit', written by the service only) are kept as long as trading logs.
CREATE OR REPLACE FUNCTION logging.retention_class(p_level text, p_event_type text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_level IN ('ERROR', 'CRITICAL') OR p_event_type IN ('trading', 'audit') THEN 'extended' ELSE 'standard' END
$$;

-- migrate:down
CREATE OR REPLACE FUNCTION logging.retention_class(p_level text, p_event_type text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_level IN ('ERROR', 'CRITICAL') OR p_event_type = 'trading' THEN 'extended' ELSE 'standard' END
$$;
DROP FUNCTION logging.charge_key(uuid, integer, timestamptz, double precision, double precision, double precision, double precision, bigint);
DROP TABLE logging.key_usage;
DROP TABLE logging.key_buckets;
ALTER TABLE logging.api_keys
    DROP COLUMN expiry_audited_at, DROP COLUMN rotated_to, DROP COLUMN daily_quota, DROP COLUMN rate_requests_per_second,
    DROP COLUMN rate_records_per_second, DROP COLUMN last_used_at, DROP COLUMN expires_at;
