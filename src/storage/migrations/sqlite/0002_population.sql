-- Population runs and their worklist, SQLite flavour. Keep in step with
-- ../postgres/0002_population.sql. These are the first tables that hold patient data: the
-- patient reference and display name of each finding (README, "What is stored").

-- One run of the pack over a Bulk Data export. The counts are set when the run ends.
CREATE TABLE population_runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    pack_version      INTEGER NOT NULL,
    run_at            TEXT    NOT NULL,
    started_at        TEXT    NOT NULL,
    finished_at       TEXT,
    status            TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    message           TEXT,
    patients_read     INTEGER,
    cohort_size       INTEGER,
    resources_read    INTEGER,
    resources_skipped INTEGER,
    findings          INTEGER,
    counts            TEXT CHECK (counts IS NULL OR json_valid(counts))
) STRICT;

CREATE INDEX population_runs_run_at ON population_runs (run_at);

-- What a running run found so far; merged into the worklist only when the run succeeds, so a
-- failed run leaves the worklist as the last successful run left it.
CREATE TABLE population_run_findings (
    run_id       INTEGER NOT NULL REFERENCES population_runs (id) ON DELETE CASCADE,
    patient      TEXT    NOT NULL,
    display_name TEXT,
    rule_id      TEXT    NOT NULL,
    indicator    TEXT    NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
    summary      TEXT    NOT NULL,
    fired_with   TEXT    NOT NULL CHECK (json_valid(fired_with)),
    PRIMARY KEY (run_id, patient, rule_id)
) STRICT;

-- The worklist: one row per (patient, rule) while open, from the run that first found it
-- until the first later run that did not.
CREATE TABLE population_findings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    patient        TEXT    NOT NULL,
    display_name   TEXT,
    rule_id        TEXT    NOT NULL,
    indicator      TEXT    NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
    summary        TEXT    NOT NULL,
    fired_with     TEXT    NOT NULL CHECK (json_valid(fired_with)),
    first_seen_run INTEGER NOT NULL REFERENCES population_runs (id),
    first_seen_at  TEXT    NOT NULL,
    last_seen_run  INTEGER NOT NULL REFERENCES population_runs (id),
    closed_by_run  INTEGER REFERENCES population_runs (id),
    closed_at      TEXT
) STRICT;

CREATE UNIQUE INDEX population_findings_open
    ON population_findings (patient, rule_id) WHERE closed_by_run IS NULL;
CREATE INDEX population_findings_rule_id ON population_findings (rule_id);
CREATE INDEX population_findings_closed_at ON population_findings (closed_at);
