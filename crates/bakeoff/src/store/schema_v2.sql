-- bakeoff results store, schema version 2: honest uncertainty and the new search.
--
--   * Estimates say what their interval is (single | range | t_interval_95) and
--     carry the mean and sd; src/store/migrations.rs recomputes old cells'
--     estimates from their stored trials after this script.
--   * Trials have an outcome; search steps a verdict, a window length and reasons
--     (`pass` stays, as a copy of verdict = 'pass', for queries).
--   * The Little's-law columns go (the check could not fail); equal load gains the
--     idle CPU, the marginal CPU per request and an optional consistency check.

ALTER TABLE cells ADD COLUMN capacity_mean REAL;
ALTER TABLE cells ADD COLUMN capacity_sd REAL;
ALTER TABLE cells ADD COLUMN capacity_interval TEXT
    CHECK (capacity_interval IN ('single', 'range', 't_interval_95'));

ALTER TABLE trials ADD COLUMN outcome TEXT NOT NULL DEFAULT 'confirmed'
    CHECK (outcome IN ('confirmed', 'no_capacity', 'truncated', 'machine_noisy',
                       'generator_limited'));
ALTER TABLE trials ADD COLUMN note TEXT;
UPDATE trials SET outcome = 'no_capacity' WHERE has_capacity = 0;

ALTER TABLE search_steps ADD COLUMN verdict TEXT NOT NULL DEFAULT 'fail'
    CHECK (verdict IN ('pass', 'fail', 'stalled', 'generator_limited'));
ALTER TABLE search_steps ADD COLUMN duration_s REAL;   -- NULL for v1 steps (not recorded)
ALTER TABLE search_steps ADD COLUMN reasons_json TEXT NOT NULL DEFAULT '[]';
UPDATE search_steps SET verdict = 'pass' WHERE pass = 1;

ALTER TABLE equal_load DROP COLUMN ll_observed;
ALTER TABLE equal_load DROP COLUMN ll_predicted;
ALTER TABLE equal_load DROP COLUMN ll_ok;
ALTER TABLE equal_load ADD COLUMN has_idle_cpu INTEGER NOT NULL DEFAULT 0;
ALTER TABLE equal_load ADD COLUMN idle_cpu_cores REAL;
ALTER TABLE equal_load ADD COLUMN has_marginal_cpu INTEGER NOT NULL DEFAULT 0;
ALTER TABLE equal_load ADD COLUMN marginal_cpu_ms_per_request REAL;
-- The consistency check: all NULL when there is none.
ALTER TABLE equal_load ADD COLUMN consistency_check TEXT;
ALTER TABLE equal_load ADD COLUMN consistency_ok INTEGER;
ALTER TABLE equal_load ADD COLUMN consistency_detail TEXT;

ALTER TABLE startups ADD COLUMN mean_ms REAL;
ALTER TABLE startups ADD COLUMN sd_ms REAL;
ALTER TABLE startups ADD COLUMN interval TEXT
    CHECK (interval IN ('single', 'range', 't_interval_95'));
