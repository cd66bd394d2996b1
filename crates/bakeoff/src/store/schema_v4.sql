-- bakeoff results store, schema version 4: the database as an axis.
--
-- A run's database workloads read SQLite (every earlier run) or PostgreSQL;
-- on PostgreSQL the server's CPU per request is kept beside the contender's.

ALTER TABLE runs       ADD COLUMN database TEXT NOT NULL DEFAULT 'sqlite'
                       CHECK (database IN ('sqlite', 'postgres'));
ALTER TABLE equal_load ADD COLUMN database_cpu_ms_per_request REAL;
