-- Population runs and their worklist, PostgreSQL flavour. Keep in step with
-- ../sqlite/0002_population.sql. These are the first tables that hold patient data: the
-- patient reference and display name of each finding (README, "What is stored").

-- One run of the pack over a Bulk Data export. The counts are set when the run ends.
CREATE TABLE population_runs (
    id                BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pack_version      BIGINT      NOT NULL,
    run_at            TIMESTAMPTZ NOT NULL,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    status            TEXT        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    message           TEXT,
    patients_read     BIGINT,
    cohort_size       BIGINT,
    resources_read    BIGINT,
    resources_skipped BIGINT,
    findings          BIGINT,
    counts            JSONB
);

CREATE INDEX population_runs_run_at ON population_runs (run_at);

-- What a running run found so far; merged into the worklist only when the run succeeds, so a
-- failed run leaves the worklist as the last successful run left it.
CREATE TABLE population_run_findings (
    run_id       BIGINT NOT NULL REFERENCES population_runs (id) ON DELETE CASCADE,
    patient      TEXT   NOT NULL,
    display_name TEXT,
    rule_id      TEXT   NOT NULL,
    indicator    TEXT   NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
    summary      TEXT   NOT NULL,
    fired_with   JSONB  NOT NULL,
    PRIMARY KEY (run_id, patient, rule_id)
);

-- The worklist: one row per (patient, rule) while open, from the run that first found it
-- until the first later run that did not.
CREATE TABLE population_findings (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient        TEXT        NOT NULL,
    display_name   TEXT,
    rule_id        TEXT        NOT NULL,
    indicator      TEXT        NOT NULL CHECK (indicator IN ('info', 'warning', 'critical')),
    summary        TEXT        NOT NULL,
    fired_with     JSONB       NOT NULL,
    first_seen_run BIGINT      NOT NULL REFERENCES population_runs (id),
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_run  BIGINT      NOT NULL REFERENCES population_runs (id),
    closed_by_run  BIGINT      REFERENCES population_runs (id),
    closed_at      TIMESTAMPTZ
);

CREATE UNIQUE INDEX population_findings_open
    ON population_findings (patient, rule_id) WHERE closed_by_run IS NULL;
CREATE INDEX population_findings_rule_id ON population_findings (rule_id);
CREATE INDEX population_findings_closed_at ON population_findings (closed_at);
