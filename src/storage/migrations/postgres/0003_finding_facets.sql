-- What the worklist filters findings by besides rule and indicator, PostgreSQL flavour. Keep in
-- step with ../sqlite/0003_finding_facets.sql. On a finding staged by a run and on the
-- worklist's row alike: the patient's CAR-T product as the record names it (a product id of
-- the pack's cohort.yaml, NULL when the record does not say), the rule's prevention level, and
-- the date (YYYY-MM-DD in rules.time_zone, text so that it compares as a date on both
-- backends) on which what the rule reports became due, NULL when the rule cannot say.
-- Findings stored before this migration have none of the three.

ALTER TABLE population_run_findings ADD COLUMN product TEXT;
ALTER TABLE population_run_findings ADD COLUMN prevention TEXT
    CHECK (prevention IS NULL OR prevention IN ('primary', 'secondary', 'tertiary'));
ALTER TABLE population_run_findings ADD COLUMN due_on TEXT;

ALTER TABLE population_findings ADD COLUMN product TEXT;
ALTER TABLE population_findings ADD COLUMN prevention TEXT
    CHECK (prevention IS NULL OR prevention IN ('primary', 'secondary', 'tertiary'));
ALTER TABLE population_findings ADD COLUMN due_on TEXT;

CREATE INDEX population_findings_due_on ON population_findings (due_on);
