-- bakeoff results store, schema version 8: the search's resolution.
--
-- The capacity search bisects until its bracket's high / low is at most
-- 1 + resolution (0.08 in quick, 0.03 in standard, 0.02 in full).
-- `runs.search_resolution` records it, so the reports can say how finely
-- the run's capacities were found; NULL in runs stored before.

ALTER TABLE runs ADD COLUMN search_resolution REAL;
