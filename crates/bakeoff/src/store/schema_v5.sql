-- bakeoff results store, schema version 5: the database as an axis inside one run.
--
-- `bakeoff run --database sqlite,postgres` measures each database workload on
-- each database: a cell is identified by its database too. `cells.database` is
-- the database of a database workload's cell (db, queries, fortunes and
-- updates, the database workloads when this version was written), NULL for the
-- others; an earlier run's database cells get the run's one database.
-- `runs.databases_json` lists the databases asked for, in order; `database`
-- stays the first.
--
-- SQLite cannot change a table's UNIQUE constraint, so `cells` is rebuilt (with
-- foreign keys off around this migration, so the tables referencing it keep
-- their rows); the identity becomes a unique index where NULL counts as a value.

ALTER TABLE runs ADD COLUMN databases_json TEXT NOT NULL DEFAULT '[]';
UPDATE runs SET databases_json = '["' || database || '"]';

CREATE TABLE cells_v5 (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    contender          TEXT    NOT NULL,
    workload           TEXT    NOT NULL,
    workers            INTEGER NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('ok', 'failed', 'skipped')),
    reason             TEXT,
    has_capacity       INTEGER NOT NULL,
    capacity_median    REAL,
    capacity_ci_low    REAL,
    capacity_ci_high   REAL,
    capacity_cv        REAL,
    capacity_n         INTEGER,
    capacity_noisy     INTEGER,
    has_scaling        INTEGER NOT NULL,
    scaling_efficiency REAL,
    flags_json         TEXT    NOT NULL,
    notes_json         TEXT    NOT NULL,
    capacity_mean      REAL,
    capacity_sd        REAL,
    capacity_interval  TEXT
                       CHECK (capacity_interval IN ('single', 'range', 't_interval_95')),
    database           TEXT    CHECK (database IN ('sqlite', 'postgres'))
);

INSERT INTO cells_v5 (id, run_id, contender, workload, workers, state, reason, has_capacity,
                      capacity_median, capacity_ci_low, capacity_ci_high, capacity_cv,
                      capacity_n, capacity_noisy, has_scaling, scaling_efficiency, flags_json,
                      notes_json, capacity_mean, capacity_sd, capacity_interval, database)
SELECT c.id, c.run_id, c.contender, c.workload, c.workers, c.state, c.reason, c.has_capacity,
       c.capacity_median, c.capacity_ci_low, c.capacity_ci_high, c.capacity_cv,
       c.capacity_n, c.capacity_noisy, c.has_scaling, c.scaling_efficiency, c.flags_json,
       c.notes_json, c.capacity_mean, c.capacity_sd, c.capacity_interval,
       CASE WHEN c.workload IN ('db', 'queries', 'fortunes', 'updates')
            THEN (SELECT r.database FROM runs r WHERE r.id = c.run_id) END
FROM cells c;

DROP TABLE cells;
ALTER TABLE cells_v5 RENAME TO cells;
CREATE INDEX cells_by_run ON cells (run_id);
CREATE UNIQUE INDEX cells_identity
    ON cells (run_id, contender, workload, workers, ifnull(database, ''));
