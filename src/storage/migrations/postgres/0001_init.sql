-- cart-sentinel schema, PostgreSQL flavour. Keep in step with ../sqlite/0001_init.sql.
-- Timestamps are TIMESTAMPTZ, JSON is JSONB. No table holds patient data.

CREATE FUNCTION cart_sentinel_reject_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME;
END;
$$;

-- Rule pack versions: immutable JSON documents numbered 1, 2, 3, ...
CREATE TABLE pack_versions (
    version    BIGINT      PRIMARY KEY,
    document   JSONB       NOT NULL,
    author     TEXT        NOT NULL,
    reason     TEXT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TRIGGER pack_versions_are_immutable
BEFORE UPDATE ON pack_versions
FOR EACH ROW EXECUTE FUNCTION cart_sentinel_reject_update();

-- The single pointer to the active version. The row exists from the start (version NULL
-- until the first commit) so that every commit can lock it with SELECT ... FOR UPDATE.
CREATE TABLE active_pack (
    id         SMALLINT    PRIMARY KEY CHECK (id = 1),
    version    BIGINT      REFERENCES pack_versions (version),
    updated_at TIMESTAMPTZ
);

INSERT INTO active_pack (id, version, updated_at) VALUES (1, NULL, NULL);

-- Who changed which rule, when and why; written in the same transaction as the version.
CREATE TABLE audit_log (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT        NOT NULL CHECK (length(actor) > 0),
    action       TEXT        NOT NULL CHECK (length(action) > 0),
    rule_id      TEXT,
    pack_version BIGINT      NOT NULL REFERENCES pack_versions (version),
    before       JSONB,
    after        JSONB,
    reason       TEXT
);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_rule_id_at ON audit_log (rule_id, at);
CREATE INDEX audit_log_actor_at ON audit_log (actor, at);

CREATE TRIGGER audit_log_is_append_only
BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION cart_sentinel_reject_update();

-- Cards returned to EHRs: which rule produced each card uuid (for the quality report).
CREATE TABLE issued_cards (
    card_uuid    TEXT        PRIMARY KEY,
    rule_id      TEXT        NOT NULL,
    service_id   TEXT        NOT NULL,
    hook         TEXT        NOT NULL,
    indicator    TEXT        NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
    pack_version BIGINT      NOT NULL,
    issued_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX issued_cards_issued_at ON issued_cards (issued_at);
CREATE INDEX issued_cards_rule_id ON issued_cards (rule_id);

-- CDS Hooks feedback. idempotency_key is a hash of the identifying fields (see
-- storage::feedback_key), so a resent item is stored once.
CREATE TABLE feedback (
    id                      BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key         TEXT        NOT NULL UNIQUE,
    service_id              TEXT        NOT NULL,
    card_uuid               TEXT        NOT NULL,
    outcome                 TEXT        NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    outcome_timestamp       TIMESTAMPTZ NOT NULL,
    accepted_suggestions    JSONB       NOT NULL DEFAULT '[]',
    override_reason_system  TEXT,
    override_reason_code    TEXT,
    override_reason_display TEXT,
    override_comment        TEXT,
    received_at             TIMESTAMPTZ NOT NULL
);

CREATE INDEX feedback_card_uuid ON feedback (card_uuid);
CREATE INDEX feedback_outcome_timestamp ON feedback (outcome_timestamp);
CREATE INDEX feedback_service_id_outcome_timestamp ON feedback (service_id, outcome_timestamp);

-- JWT ids already accepted, until they expire (replay protection across replicas).
CREATE TABLE seen_jti (
    iss        TEXT        NOT NULL,
    jti        TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (iss, jti)
);

CREATE INDEX seen_jti_expires_at ON seen_jti (expires_at);
