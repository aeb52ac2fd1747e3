-- cart-sentinel schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql.
-- Timestamps are UTC RFC 3339 text of fixed width (2024-05-01T08:30:00.000000Z), so text
-- order is time order. JSON is stored as text. No table holds patient data.

-- Rule pack versions: immutable JSON documents numbered 1, 2, 3, ...
CREATE TABLE pack_versions (
    version    INTEGER PRIMARY KEY,
    document   TEXT    NOT NULL CHECK (json_valid(document)),
    author     TEXT    NOT NULL,
    reason     TEXT,
    created_at TEXT    NOT NULL
) STRICT;

CREATE TRIGGER pack_versions_are_immutable
BEFORE UPDATE ON pack_versions
BEGIN
    SELECT RAISE(ABORT, 'rule pack versions are immutable');
END;

-- The single pointer to the active version. The row exists from the start (version NULL
-- until the first commit) so that every commit reads and updates the same row.
CREATE TABLE active_pack (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    INTEGER REFERENCES pack_versions (version),
    updated_at TEXT
) STRICT;

INSERT INTO active_pack (id, version, updated_at) VALUES (1, NULL, NULL);

-- Who changed which rule, when and why; written in the same transaction as the version.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT    NOT NULL,
    actor        TEXT    NOT NULL CHECK (length(actor) > 0),
    action       TEXT    NOT NULL CHECK (length(action) > 0),
    rule_id      TEXT,
    pack_version INTEGER NOT NULL REFERENCES pack_versions (version),
    before       TEXT CHECK (before IS NULL OR json_valid(before)),
    after        TEXT CHECK (after IS NULL OR json_valid(after)),
    reason       TEXT
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_rule_id_at ON audit_log (rule_id, at);
CREATE INDEX audit_log_actor_at ON audit_log (actor, at);

CREATE TRIGGER audit_log_is_append_only
BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit entries are immutable');
END;

-- Cards returned to EHRs: which rule produced each card uuid (for the quality report).
CREATE TABLE issued_cards (
    card_uuid    TEXT    PRIMARY KEY,
    rule_id      TEXT    NOT NULL,
    service_id   TEXT    NOT NULL,
    hook         TEXT    NOT NULL,
    indicator    TEXT    NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
    pack_version INTEGER NOT NULL,
    issued_at    TEXT    NOT NULL
) STRICT;

CREATE INDEX issued_cards_issued_at ON issued_cards (issued_at);
CREATE INDEX issued_cards_rule_id ON issued_cards (rule_id);

-- CDS Hooks feedback. idempotency_key is a hash of the identifying fields (see
-- storage::feedback_key), so a resent item is stored once.
CREATE TABLE feedback (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key         TEXT    NOT NULL UNIQUE,
    service_id              TEXT    NOT NULL,
    card_uuid               TEXT    NOT NULL,
    outcome                 TEXT    NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    outcome_timestamp       TEXT    NOT NULL,
    accepted_suggestions    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(accepted_suggestions)),
    override_reason_system  TEXT,
    override_reason_code    TEXT,
    override_reason_display TEXT,
    override_comment        TEXT,
    received_at             TEXT    NOT NULL
) STRICT;

CREATE INDEX feedback_card_uuid ON feedback (card_uuid);
CREATE INDEX feedback_outcome_timestamp ON feedback (outcome_timestamp);
CREATE INDEX feedback_service_id_outcome_timestamp ON feedback (service_id, outcome_timestamp);

-- JWT ids already accepted, until they expire (replay protection).
CREATE TABLE seen_jti (
    iss        TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (iss, jti)
) STRICT, WITHOUT ROWID;

CREATE INDEX seen_jti_expires_at ON seen_jti (expires_at);
