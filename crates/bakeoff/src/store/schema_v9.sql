-- bakeoff results store, schema version 9: the machine's speed over a run.
--
-- The drift probe (a fixed loop timed on the contender's core at the run's
-- start and around every capacity search) summarised over the run:
-- {"readings": n, "median": M, "min": m, "max": x}, in millions of loop
-- iterations per second, so `compare` can tell two runs on a machine of
-- different speed apart. NULL in runs stored before, and in runs cut short.

ALTER TABLE environment ADD COLUMN core_speed_json TEXT;
