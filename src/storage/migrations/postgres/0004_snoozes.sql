-- Acting on worklist findings and snoozing a rule for a patient, PostgreSQL flavour. Keep in step
-- with ../sqlite/0004_snoozes.sql.

-- What someone did about a worklist finding: acknowledged it, snoozed it until a time, or
-- recorded that the patient was contacted. Keyed by the finding, which stays the same row
-- while later runs find it again; no patient reference (the finding has it). Deleted with the
-- finding by retention.
CREATE TABLE finding_actions (
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finding_id BIGINT      NOT NULL,
    action     TEXT        NOT NULL CHECK (action IN ('acknowledge', 'snooze', 'contacted')),
    reason     TEXT        NOT NULL,
    until      TIMESTAMPTZ,
    actor      TEXT        NOT NULL,
    at         TIMESTAMPTZ NOT NULL
);

CREATE INDEX finding_actions_finding ON finding_actions (finding_id, id);

-- A rule kept quiet for a patient until a time: from a card overridden with a reason the rule
-- marks as snoozing, or from a worklist snooze. The patient is a keyed hash (HMAC-SHA256 with
-- the server's privacy.patient_key_secret, hex), never the reference itself.
CREATE TABLE snoozes (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_key TEXT    NOT NULL,
    rule_id     TEXT    NOT NULL,
    until       TIMESTAMPTZ NOT NULL,
    origin      TEXT    NOT NULL CHECK (origin IN ('card', 'worklist')),
    reason_code TEXT,
    reason_text TEXT,
    actor       TEXT,
    at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX snoozes_patient_key ON snoozes (patient_key, until);

-- The keyed hash of the patient a card was issued for, so that feedback on the card can
-- snooze its rule for that patient. NULL for cards issued before this migration.
ALTER TABLE issued_cards ADD COLUMN patient_key TEXT;
