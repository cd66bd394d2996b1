-- bakeoff results store, schema version 1.
--
-- Conventions:
--   * `position` columns keep the order of the model's Vecs, so a run reads back
--     exactly as it was written.
--   * Columns named *_json hold JSON text for small nested lists and maps of
--     strings only (names, flags, notes, disclosures, runtimes); every number that
--     is queried or compared has a real column.
--   * REAL columns that the model declares non-optional are NULL only when the
--     value was NaN (SQLite cannot store NaN); they read back as NaN.
--   * u64 counts and byte sizes are INTEGER (values above i64::MAX are refused).

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    started_at      TEXT    NOT NULL,
    finished_at     TEXT,
    status          TEXT    NOT NULL
                    CHECK (status IN ('running', 'complete', 'interrupted', 'failed')),
    -- The process writing the run, and its start time in clock ticks since boot
    -- (from /proc/PID/stat), so a recycled pid is not mistaken for the owner.
    owner_pid       INTEGER,
    owner_start     INTEGER,
    profile         TEXT    NOT NULL,
    slo_p99_ms      REAL,
    trials          INTEGER NOT NULL,
    duration_scale  REAL,
    contenders_json TEXT    NOT NULL,   -- Settings.contenders: ["node-fastify", ...]
    workloads_json  TEXT    NOT NULL,   -- Settings.workloads
    workers_json    TEXT    NOT NULL    -- Settings.workers: [1, 2]
);

CREATE TABLE environment (
    run_id          INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    cpu_model       TEXT    NOT NULL,
    cores           INTEGER NOT NULL,
    memory_bytes    INTEGER NOT NULL,
    kernel          TEXT    NOT NULL,
    os              TEXT    NOT NULL,
    bakeoff_version TEXT    NOT NULL,
    git_revision    TEXT,
    pinning         TEXT    NOT NULL,
    runtimes_json   TEXT    NOT NULL    -- {"node": "v20.20.2", "python": "3.11.7"}
);

CREATE TABLE contenders (
    run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    name              TEXT    NOT NULL,
    language          TEXT    NOT NULL,
    runtime           TEXT    NOT NULL,
    runtime_version   TEXT    NOT NULL,
    framework         TEXT    NOT NULL,
    framework_version TEXT    NOT NULL,
    server            TEXT    NOT NULL,
    deps_direct       INTEGER NOT NULL,
    deps_total        INTEGER NOT NULL,
    install_bytes     INTEGER NOT NULL,
    install_secs      REAL,
    app_loc           INTEGER NOT NULL,
    unsupported_json  TEXT    NOT NULL,  -- {"ws": "no websocket support"}
    disclosures_json  TEXT    NOT NULL,  -- ["uses orjson", ...]
    PRIMARY KEY (run_id, position),
    UNIQUE (run_id, name)
);

-- One contender x workload x worker count. Capacity is an Estimate over trials.
CREATE TABLE cells (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    contender          TEXT    NOT NULL,
    workload           TEXT    NOT NULL,
    workers            INTEGER NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('ok', 'failed', 'skipped')),
    reason             TEXT,               -- for failed and skipped
    has_capacity       INTEGER NOT NULL,   -- 1 when Cell.capacity is Some
    capacity_median    REAL,
    capacity_ci_low    REAL,
    capacity_ci_high   REAL,
    capacity_cv        REAL,
    capacity_n         INTEGER,
    capacity_noisy     INTEGER,
    has_scaling        INTEGER NOT NULL,   -- 1 when Cell.scaling_efficiency is Some
    scaling_efficiency REAL,
    flags_json         TEXT    NOT NULL,   -- ["noisy", "contended"]
    notes_json         TEXT    NOT NULL,   -- ["cv 14% over 3 trials"]
    UNIQUE (run_id, contender, workload, workers)
);
CREATE INDEX cells_by_run ON cells (run_id);

CREATE TABLE trials (
    id           INTEGER PRIMARY KEY,
    cell_id      INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    has_capacity INTEGER NOT NULL,
    capacity_rps REAL,
    UNIQUE (cell_id, position),
    UNIQUE (cell_id, idx)
);

CREATE TABLE search_steps (
    trial_id     INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    phase        TEXT    NOT NULL,
    target_rps   REAL,
    achieved_rps REAL,
    p99_ms       REAL,
    error_rate   REAL,
    pass         INTEGER NOT NULL,
    PRIMARY KEY (trial_id, position)
);

-- Latency and cost at equal load: at most one row per cell.
CREATE TABLE equal_load (
    cell_id               INTEGER PRIMARY KEY REFERENCES cells(id) ON DELETE CASCADE,
    target_rps            REAL,
    achieved_rps          REAL,
    requests              INTEGER NOT NULL,
    errors                INTEGER NOT NULL,
    p99_ms                REAL,   -- copy of the corrected p99, for queries
    cpu_ms_per_request    REAL,
    rss_peak_bytes        INTEGER NOT NULL,
    rss_mean_bytes        INTEGER NOT NULL,
    ll_observed           REAL,
    ll_predicted          REAL,
    ll_ok                 INTEGER NOT NULL
);

-- Percentile summaries of the equal-load window: kind is 'latency' (corrected),
-- 'service' or 'light' (cpu-mixed, light requests only).
CREATE TABLE percentiles (
    cell_id INTEGER NOT NULL REFERENCES equal_load(cell_id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL CHECK (kind IN ('latency', 'service', 'light')),
    p50     REAL,
    p90     REAL,
    p99     REAL,
    p999    REAL,
    p9999   REAL,
    max     REAL,
    mean    REAL,
    PRIMARY KEY (cell_id, kind)
);

-- (quantile, ms) points: kind is 'latency' (EqualLoad.spectrum) or 'service'.
CREATE TABLE spectra (
    cell_id  INTEGER NOT NULL REFERENCES equal_load(cell_id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL CHECK (kind IN ('latency', 'service')),
    position INTEGER NOT NULL,
    quantile REAL,
    ms       REAL,
    PRIMARY KEY (cell_id, kind, position)
);

CREATE TABLE timelines (
    cell_id  INTEGER NOT NULL REFERENCES equal_load(cell_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    second   INTEGER NOT NULL,
    rps      REAL,
    p99_ms   REAL,
    errors   INTEGER NOT NULL,
    PRIMARY KEY (cell_id, position)
);

-- HdrHistogram V2 (deflate) serializations, so percentiles can be recomputed and
-- runs merged later. name: 'latency', 'service', 'light', ...
CREATE TABLE histograms (
    cell_id  INTEGER NOT NULL REFERENCES equal_load(cell_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    encoding TEXT    NOT NULL DEFAULT 'hdr-v2-deflate',
    data     BLOB    NOT NULL,
    PRIMARY KEY (cell_id, position),
    UNIQUE (cell_id, name)
);

CREATE TABLE ws_points (
    cell_id              INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
    position             INTEGER NOT NULL,
    clients              INTEGER NOT NULL,
    rate                 REAL,
    sent                 INTEGER NOT NULL,
    expected_deliveries  INTEGER NOT NULL,
    deliveries           INTEGER NOT NULL,
    missing              INTEGER NOT NULL,
    p50_ms               REAL,
    p99_ms               REAL,
    rss_idle_bytes       INTEGER NOT NULL,
    rss_loaded_bytes     INTEGER NOT NULL,
    bytes_per_connection REAL,
    PRIMARY KEY (cell_id, position)
);

CREATE TABLE startups (
    cell_id        INTEGER PRIMARY KEY REFERENCES cells(id) ON DELETE CASCADE,
    median_ms      REAL,
    ci_low_ms      REAL,
    ci_high_ms     REAL,
    cv             REAL,
    n              INTEGER NOT NULL,
    noisy          INTEGER NOT NULL,
    idle_rss_bytes INTEGER NOT NULL
);
