-- bakeoff results store, schema version 11: the loopback probe.
--
-- Small messages echoed over loopback TCP between the contender's core and
-- the generator's, timed at the same moments as the drift probe
-- (`core_speed_json`): the path every measured request takes. On a shared
-- host it moved with the servers' capacities while the drift probe's integer
-- loop did not. NULL in runs stored before, and in runs cut short before any
-- reading.

ALTER TABLE environment ADD COLUMN loopback_speed_json TEXT;
