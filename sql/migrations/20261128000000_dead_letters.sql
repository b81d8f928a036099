-- migrate:up
-- Batches that could not be stored through the normal path: replays QStash gave up on (failure
-- callback) and replays that can never be stored as they are. `npm run dlq -- replay` re-ingests them.
CREATE TABLE logging.dead_letters (
    id                bigserial   PRIMARY KEY,
    kind              text        NOT NULL CHECK (kind IN ('retries_exhausted', 'unstorable')),
    source_message_id text        UNIQUE,
    dlq_id            text,
    payload           text        NOT NULL,
    reason            text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    replayed_at       timestamptz
);
CREATE INDEX idx_dead_letters_pending ON logging.dead_letters (created_at) WHERE replayed_at IS NULL;

-- migrate:down
DROP TABLE logging.dead_letters;
