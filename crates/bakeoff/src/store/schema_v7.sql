-- bakeoff results store, schema version 7: failing trials.
--
-- A trial whose search failed even at its lowest rate, answering mostly with
-- errors, is `failing` (the server is broken, not slow): no capacity and no
-- sample, where `no_capacity` counts as 0.
--
-- SQLite cannot change a column's CHECK constraint, so `trials` is rebuilt
-- (with foreign keys off around this migration, so the search steps
-- referencing it keep their rows).

CREATE TABLE trials_v7 (
    id           INTEGER PRIMARY KEY,
    cell_id      INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    has_capacity INTEGER NOT NULL,
    capacity_rps REAL,
    outcome      TEXT    NOT NULL DEFAULT 'confirmed'
                 CHECK (outcome IN ('confirmed', 'no_capacity', 'failing', 'truncated',
                                    'machine_noisy', 'generator_limited')),
    note         TEXT,
    UNIQUE (cell_id, position),
    UNIQUE (cell_id, idx)
);

INSERT INTO trials_v7 (id, cell_id, position, idx, has_capacity, capacity_rps, outcome, note)
SELECT id, cell_id, position, idx, has_capacity, capacity_rps, outcome, note FROM trials;

DROP TABLE trials;
ALTER TABLE trials_v7 RENAME TO trials;
