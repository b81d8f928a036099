-- migrate:up
-- Alerting: rules, their per-group state and append-only history, the notification outbox
-- (the delivery ledger), contact points, silences and mute timings, the evaluator's runs, and
-- the ingest counters the pipeline-health rules and /metrics read.

-- A rule's definition is the JSON the API accepted (shared/alerting/rules.ts validates it).
CREATE TABLE logging.alert_rules (
    name        text        PRIMARY KEY,
    spec        jsonb       NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text,
    -- The last minute evaluated: a rerun of the same minute (after a crash) skips the rule.
    evaluated_at timestamptz,
    -- The last time a notification about this rule was sent out: the group interval counts from it.
    notified_at timestamptz
);

-- One row per (rule, group): the state machine's memory, so a restart loses nothing.
CREATE TABLE logging.alert_instances (
    rule           text        NOT NULL REFERENCES logging.alert_rules (name) ON DELETE CASCADE,
    group_key      text        NOT NULL,
    labels         jsonb       NOT NULL,
    state          text        NOT NULL CHECK (state IN ('normal', 'pending', 'firing', 'recovering', 'nodata', 'error')),
    severity       text        CHECK (severity IN ('warning', 'critical')),
    since          timestamptz NOT NULL,
    active_since   timestamptz,
    value          float8,
    threshold      float8,
    missing        integer     NOT NULL DEFAULT 0,
    evaluated_at   timestamptz NOT NULL,
    -- What receivers were last told: 'firing' (with which severity) or 'resolved'; NULL: nothing yet.
    notified       text        CHECK (notified IN ('firing', 'resolved')),
    notified_severity text,
    notified_at    timestamptz,
    samples        jsonb       NOT NULL DEFAULT '[]',
    PRIMARY KEY (rule, group_key)
);

CREATE TABLE logging.alert_history (
    id          bigserial   PRIMARY KEY,
    rule        text        NOT NULL,
    group_key   text        NOT NULL,
    labels      jsonb       NOT NULL,
    from_state  text,
    to_state    text        NOT NULL,
    severity    text,
    value       float8,
    threshold   float8,
    minute      timestamptz NOT NULL,
    silenced    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_alert_history_rule ON logging.alert_history (rule, minute DESC);
CREATE INDEX idx_alert_history_minute ON logging.alert_history (minute DESC);

CREATE TABLE logging.alert_contact_points (
    name        text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('webhook', 'alertmanager', 'slack', 'pagerduty')),
    url         text        NOT NULL,
    -- The webhook signing secret (whsec_…) or PagerDuty's routing key. Never returned by the API.
    secret      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per notification and contact point, written in the transaction of the state
-- change it reports; its id is the QStash deduplication id, the webhook-id and the ledger key.
CREATE TABLE logging.alert_notifications (
    id             uuid        PRIMARY KEY,
    rule           text,
    contact_point  text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('alert', 'test')),
    payload        jsonb       NOT NULL,
    status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'delivered', 'failed')),
    attempts       integer     NOT NULL DEFAULT 0,
    claimed_until  timestamptz,
    last_status    integer,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    delivered_at   timestamptz
);
CREATE INDEX idx_alert_notifications_open ON logging.alert_notifications (created_at) WHERE status IN ('pending', 'published');
CREATE INDEX idx_alert_notifications_rule ON logging.alert_notifications (rule, created_at DESC);

CREATE TABLE logging.alert_silences (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    matchers    jsonb       NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    comment     text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE logging.alert_mute_timings (
    name        text        PRIMARY KEY,
    spec        jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per evaluated minute; skipped minutes (a missed cron, a long outage) are recorded as such.
CREATE TABLE logging.alert_evaluations (
    minute       timestamptz PRIMARY KEY,
    status       text        NOT NULL CHECK (status IN ('ok', 'error', 'skipped')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    rules        integer     NOT NULL DEFAULT 0,
    transitions  integer     NOT NULL DEFAULT 0,
    notifications integer    NOT NULL DEFAULT 0,
    duration_ms  float8,
    error        text
);

-- Per-minute ingest counters (accepted, rejected records; batches queued to QStash), a few shards
-- per minute so that concurrent requests do not wait on one row.
CREATE TABLE logging.ingest_counters (
    minute          timestamptz NOT NULL,
    shard           smallint    NOT NULL,
    accepted        bigint      NOT NULL DEFAULT 0,
    rejected        bigint      NOT NULL DEFAULT 0,
    queued_batches  bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, shard)
);

-- migrate:down
DROP TABLE logging.ingest_counters;
DROP TABLE logging.alert_evaluations;
DROP TABLE logging.alert_mute_timings;
DROP TABLE logging.alert_silences;
DROP TABLE logging.alert_notifications;
DROP TABLE logging.alert_contact_points;
DROP TABLE logging.alert_history;
DROP TABLE logging.alert_instances;
DROP TABLE logging.alert_rules;
