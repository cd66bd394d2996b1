"""Flask reference contender for bakeoff (see docs/contract.md).

Runs on gunicorn gthread workers (gunicorn.conf.py; WORKER_CLASS=sync for sync
workers). SQLite through the standard library's sqlite3 module, one connection
per thread, opened on first use with the contract's PRAGMAs; or, when
BAKEOFF_DATABASE_URL is set, PostgreSQL through psycopg 3 and one
psycopg_pool.ConnectionPool per worker process. /io through a per-worker
requests.Session; /data through pandas, imported and loaded at start only when
BAKEOFF_DATA is set.
"""

import atexit
import os
import random
import sqlite3
import threading

import requests
from flask import Blueprint, Flask, jsonify, render_template, request

DB_PATH = os.environ["BAKEOFF_SQLITE"]
UPSTREAM = os.environ["BAKEOFF_UPSTREAM"].rstrip("/")
DATA_PATH = os.environ.get("BAKEOFF_DATA")
# Set for PostgreSQL runs: the database endpoints then use it instead of SQLite.
DATABASE_URL = os.environ.get("BAKEOFF_DATABASE_URL")
IO_TIMEOUT_S = 15  # upstream delays are at most 10 s; 15 s in every contender
# The contract's settings, the same in every contender: WAL with NORMAL sync
# (durable at checkpoints, what better-sqlite3 builds with) and a busy timeout,
# since workers write concurrently in /updates.
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")

app = Flask(__name__)
# The database endpoints: one of these two blueprints is registered below.
sqlite_db = Blueprint("sqlite_db", __name__)
postgres_db = Blueprint("postgres_db", __name__)

if DATA_PATH:
    # Only launches that serve /data pay for pandas. Loaded once, before
    # gunicorn forks (preload_app), so workers share it copy-on-write.
    import pandas as pd

    SALES = pd.read_csv(DATA_PATH, dtype={"region": "category", "product": "category"})
    REGIONS = frozenset(SALES["region"].cat.categories)

# One pooled keep-alive client per worker process.
http = requests.Session()

# One connection per gunicorn thread, kept for the thread's life: a sqlite3
# connection may only be used by the thread that opened it.
local = threading.local()


def get_db():
    db = getattr(local, "db", None)
    if db is None:
        db = sqlite3.connect(DB_PATH)
        for pragma in PRAGMAS:
            db.execute(pragma)
        local.db = db
    return db


def query_count():
    """TechEmpower's rule: missing or invalid means 1, clamped to 1..500."""
    try:
        n = int(request.args.get("queries", "1"))
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def int_arg(name, default, low, high):
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


def random_world(db):
    row = db.execute(
        "SELECT id, randomNumber FROM world WHERE id = ?", (random.randint(1, 10000),)
    ).fetchone()
    return {"id": row[0], "randomNumber": row[1]}


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
def json_endpoint():
    return jsonify(message="Hello, World!")


@sqlite_db.get("/db")
def single_query():
    return jsonify(random_world(get_db()))


@sqlite_db.get("/queries")
def multiple_queries():
    db = get_db()
    return jsonify([random_world(db) for _ in range(query_count())])


@sqlite_db.get("/fortunes")
def fortunes():
    rows = get_db().execute("SELECT id, message FROM fortune").fetchall()
    items = [{"id": fid, "message": message} for fid, message in rows]
    items.append({"id": 0, "message": "Additional fortune added at request time."})
    items.sort(key=lambda f: f["message"])
    return render_template("fortunes.html", fortunes=items)


@sqlite_db.get("/updates")
def updates():
    db = get_db()
    # Distinct ids, so every returned row is exactly what is persisted.
    ids = random.sample(range(1, 10001), query_count())
    worlds = []
    for wid in ids:
        row = db.execute("SELECT id, randomNumber FROM world WHERE id = ?", (wid,)).fetchone()
        worlds.append({"id": row[0], "randomNumber": random.randint(1, 10000)})
    with db:  # one transaction, committed on exit
        db.executemany(
            "UPDATE world SET randomNumber = ? WHERE id = ?",
            [(w["randomNumber"], w["id"]) for w in worlds],
        )
    return jsonify(worlds)


def pool_size():
    raw = os.environ.get("BAKEOFF_DB_POOL_SIZE", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= 1024:
        raise SystemExit(f"BAKEOFF_DB_POOL_SIZE={raw!r} is not an integer between 1 and 1024")
    return int(raw)


if DATABASE_URL:
    from psycopg_pool import ConnectionPool

    POOL_SIZE = pool_size()

_pool = None
_pool_lock = threading.Lock()


def get_pool():
    """This worker process's pool, opened on its first request.

    gunicorn loads the app in the master and forks (preload_app), and a pool's
    connections and background threads must not cross a fork, so each worker
    opens its own after it. At most BAKEOFF_DB_POOL_SIZE connections; it keeps
    psycopg_pool's default minimum of 4 open and grows when a thread has to
    wait, so a process uses about as many as it has threads. Autocommit, as
    Django's default on the same driver and asyncpg's: a read is one round
    trip, not BEGIN, the query and COMMIT; /updates opens its transaction.
    """
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ConnectionPool(
                    DATABASE_URL,
                    min_size=min(4, POOL_SIZE),
                    max_size=POOL_SIZE,
                    kwargs={"autocommit": True},
                    open=True,
                )
                # Close the connections when the worker exits, not at garbage collection.
                atexit.register(_pool.close)
    return _pool


def pg_world(cur, wid):
    # PostgreSQL folds the unquoted column name to lower case; psycopg prepares
    # the statement on the server once it has run a few times on a connection.
    cur.execute("SELECT id, randomnumber FROM world WHERE id = %s", (wid,))
    row = cur.fetchone()
    return {"id": row[0], "randomNumber": row[1]}


# Each request borrows one pooled connection for its duration; leaving the
# `with` block returns it.
@postgres_db.get("/db")
def pg_single_query():
    with get_pool().connection() as conn, conn.cursor() as cur:
        return jsonify(pg_world(cur, random.randint(1, 10000)))


@postgres_db.get("/queries")
def pg_multiple_queries():
    n = query_count()
    with get_pool().connection() as conn, conn.cursor() as cur:
        return jsonify([pg_world(cur, random.randint(1, 10000)) for _ in range(n)])


@postgres_db.get("/fortunes")
def pg_fortunes():
    with get_pool().connection() as conn:
        rows = conn.execute("SELECT id, message FROM fortune").fetchall()
    items = [{"id": fid, "message": message} for fid, message in rows]
    items.append({"id": 0, "message": "Additional fortune added at request time."})
    items.sort(key=lambda f: f["message"])
    return render_template("fortunes.html", fortunes=items)


@postgres_db.get("/updates")
def pg_updates():
    # Distinct ids, sorted: concurrent requests then lock rows in the same
    # order and cannot deadlock (TechEmpower's rule).
    ids = sorted(random.sample(range(1, 10001), query_count()))
    with get_pool().connection() as conn, conn.transaction(), conn.cursor() as cur:
        worlds = []
        for wid in ids:
            world = pg_world(cur, wid)
            world["randomNumber"] = random.randint(1, 10000)
            worlds.append(world)
        # One transaction, committed when `conn.transaction()` ends; psycopg
        # sends executemany's statements in one pipeline.
        cur.executemany(
            "UPDATE world SET randomnumber = %s WHERE id = %s",
            [(w["randomNumber"], w["id"]) for w in worlds],
        )
    return jsonify(worlds)


app.register_blueprint(postgres_db if DATABASE_URL else sqlite_db)


@app.get("/io")
def io():
    ms = int_arg("ms", 0, 0, 10_000)
    try:
        resp = http.get(f"{UPSTREAM}/delay", params={"ms": ms}, timeout=IO_TIMEOUT_S)
        resp.raise_for_status()
    except requests.RequestException as exc:
        return jsonify(error=f"upstream call failed: {exc}"), 502
    return jsonify(resp.json())


def count_primes(n):
    count = 0
    for i in range(2, n + 1):
        d = 2
        prime = True
        while d * d <= i:
            if i % d == 0:
                prime = False
                break
            d += 1
        if prime:
            count += 1
    return count


@app.get("/cpu")
def cpu():
    n = int_arg("n", 10_000, 1, 10_000_000)
    return jsonify(n=n, primes=count_primes(n))


@app.get("/data")
def data():
    if not DATA_PATH:
        return jsonify(error="BAKEOFF_DATA is not set: this launch has no sales dataset"), 503
    region = request.args.get("region")
    if region not in REGIONS:
        return jsonify(error=f"unknown region: {region!r}"), 404
    rows = SALES[SALES["region"] == region]
    rows = rows.assign(revenue=rows["units"] * rows["unit_price"])
    summary = (
        rows.groupby("product", as_index=False, observed=True)
        .agg(
            count=("units", "size"),
            units=("units", "sum"),
            revenue=("revenue", "sum"),
            mean_unit_price=("unit_price", "mean"),
        )
        .sort_values(["revenue", "product"], ascending=[False, True])
    )
    return jsonify(region=region, products=summary.to_dict(orient="records"))
