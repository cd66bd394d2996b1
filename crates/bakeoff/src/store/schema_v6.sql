-- bakeoff results store, schema version 6: the run's steal limit.
--
-- `bakeoff run --max-steal PERCENT` raises the machine's steal from which a
-- window is voided as the machine's (2% by default). `runs.max_steal_percent`
-- records it; NULL in runs stored before, which used 2.

ALTER TABLE runs ADD COLUMN max_steal_percent REAL;
