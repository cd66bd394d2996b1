"""The default database layer: the standard library's sqlite3, as the other contenders.

sqlite3 is a synchronous driver, so these are plain `def` path operations,
which FastAPI runs in its threadpool (FastAPI's documented form for blocking
libraries); each pool thread opens one connection on first use and keeps it.
"""

import os
import random
import sqlite3
import threading

from fastapi import APIRouter, Request

from shared import EXTRA_FORTUNE, PRAGMAS, query_count, templates

DB_PATH = os.environ["BAKEOFF_SQLITE"]

router = APIRouter()

# A sqlite3 connection may only be used by the thread that opened it.
local = threading.local()


def get_db() -> sqlite3.Connection:
    db = getattr(local, "db", None)
    if db is None:
        db = sqlite3.connect(DB_PATH)
        for pragma in PRAGMAS:
            db.execute(pragma)
        local.db = db
    return db


def random_world(db: sqlite3.Connection) -> dict:
    row = db.execute(
        "SELECT id, randomNumber FROM world WHERE id = ?", (random.randint(1, 10000),)
    ).fetchone()
    return {"id": row[0], "randomNumber": row[1]}


# The `queries` rule is called in the body, not through Depends: a plain-def
# dependency would cost a second trip through the threadpool.
@router.get("/db")
def single_query() -> dict:
    return random_world(get_db())


@router.get("/queries")
def multiple_queries(queries: str = "1") -> list[dict]:
    db = get_db()
    return [random_world(db) for _ in range(query_count(queries))]


@router.get("/fortunes")
def fortunes(request: Request):
    rows = get_db().execute("SELECT id, message FROM fortune").fetchall()
    items = [{"id": fid, "message": message} for fid, message in rows]
    items.append({"id": 0, "message": EXTRA_FORTUNE})
    items.sort(key=lambda f: f["message"])
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": items})


@router.get("/updates")
def updates(queries: str = "1") -> list[dict]:
    db = get_db()
    # Distinct ids, so every returned row is exactly what is persisted.
    worlds = []
    for wid in random.sample(range(1, 10001), query_count(queries)):
        row = db.execute("SELECT id, randomNumber FROM world WHERE id = ?", (wid,)).fetchone()
        worlds.append({"id": row[0], "randomNumber": random.randint(1, 10000)})
    with db:  # one transaction, committed on exit
        db.executemany(
            "UPDATE world SET randomNumber = ? WHERE id = ?",
            [(w["randomNumber"], w["id"]) for w in worlds],
        )
    return worlds


async def connect() -> None:
    """Connections open on first use, one per threadpool thread."""


async def close() -> None:
    """Pool threads' connections close when their threads end."""
