-- A running population run's last sign of life, SQLite flavour. Keep in step with
-- ../postgres/0006_run_heartbeat.sql. The process that runs it writes it at the start and every
-- 30 seconds; a run still 'running' with no sign of life for 5 minutes (its process died) is
-- recorded as failed when the next run starts, on whichever replica. NULL for runs started
-- before this migration (their start time counts instead).
ALTER TABLE population_runs ADD COLUMN heartbeat_at TEXT;
