-- The patient's day 0 with each finding, and a patient's card history, SQLite flavour. Keep
-- in step with ../postgres/0005_day0_and_card_history.sql.
--
-- day0: the date (YYYY-MM-DD in rules.time_zone, as the engine counts days) of the first
-- infusion of the patient's latest CAR-T course, NULL when the record does not say; the
-- worklist shows "day N since infusion" from it. Findings stored before this migration have
-- none.
ALTER TABLE population_run_findings ADD COLUMN day0 TEXT;
ALTER TABLE population_findings ADD COLUMN day0 TEXT;

-- A patient's timeline lists the cards issued for the patient's keyed hash, newest first.
CREATE INDEX issued_cards_patient_key ON issued_cards (patient_key, issued_at);
