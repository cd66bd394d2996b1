-- bakeoff results store, schema version 10: the generator's core's speed.
--
-- The same drift probe as `core_speed_json` (schema v9), timed at the same
-- moments on the generator's core: the generator, the upstream service, the
-- sampler and the kernel's half of the loopback traffic share that core, so a
-- slower one adds its delay to every measured request (and near the
-- generator's limit caps a capacity), which the contender's core's readings
-- do not show. NULL in runs stored before, and in runs cut short or unpinned.

ALTER TABLE environment ADD COLUMN generator_core_speed_json TEXT;
