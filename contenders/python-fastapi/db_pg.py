"""The PostgreSQL database layer (BAKEOFF_DATABASE_URL set, DB_LAYER=raw): asyncpg.

As TechEmpower's raw FastAPI app (frameworks/Python/fastapi/app.py): asyncpg is
an asyncio driver, so these are `async def` path operations on the event loop,
and each uvicorn worker process has one asyncpg pool of BAKEOFF_DB_POOL_SIZE
connections, opened in the lifespan handler (after uvicorn started the worker).
"""

import os
import random

import asyncpg
from fastapi import APIRouter, Request

from shared import EXTRA_FORTUNE, db_pool_size, query_count, templates

# PostgreSQL folds the unquoted column name to lower case.
READ_ROW = "SELECT id, randomnumber FROM world WHERE id = $1"
WRITE_ROW = "UPDATE world SET randomnumber = $1 WHERE id = $2"

router = APIRouter()
pool: asyncpg.Pool | None = None


async def connect() -> None:
    global pool
    size = db_pool_size()
    # At most BAKEOFF_DB_POOL_SIZE; asyncpg's default minimum of 10 opens here,
    # before /health turns 200, and the pool grows under load.
    pool = await asyncpg.create_pool(
        os.environ["BAKEOFF_DATABASE_URL"], min_size=min(10, size), max_size=size
    )


async def close() -> None:
    if pool is not None:
        await pool.close()


def as_world(row: asyncpg.Record) -> dict:
    return {"id": row[0], "randomNumber": row[1]}


# Each request holds one pooled connection while it runs its statements; asyncpg
# prepares each statement once per connection and caches it.
@router.get("/db")
async def single_query() -> dict:
    async with pool.acquire() as conn:
        return as_world(await conn.fetchrow(READ_ROW, random.randint(1, 10000)))


@router.get("/queries")
async def multiple_queries(queries: str = "1") -> list[dict]:
    n = query_count(queries)
    async with pool.acquire() as conn:
        statement = await conn.prepare(READ_ROW)
        return [as_world(await statement.fetchrow(random.randint(1, 10000))) for _ in range(n)]


@router.get("/fortunes")
async def fortunes(request: Request):
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, message FROM fortune")
    items = [{"id": fid, "message": message} for fid, message in rows]
    items.append({"id": 0, "message": EXTRA_FORTUNE})
    items.sort(key=lambda f: f["message"])
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": items})


@router.get("/updates")
async def updates(queries: str = "1") -> list[dict]:
    # Distinct ids, sorted: concurrent requests then lock rows in the same
    # order and cannot deadlock (TechEmpower's rule).
    ids = sorted(random.sample(range(1, 10001), query_count(queries)))
    async with pool.acquire() as conn:
        statement = await conn.prepare(READ_ROW)
        worlds = []
        for wid in ids:
            world = as_world(await statement.fetchrow(wid))
            world["randomNumber"] = random.randint(1, 10000)
            worlds.append(world)
        # asyncpg runs executemany in one transaction, its statements pipelined.
        await conn.executemany(WRITE_ROW, [(w["randomNumber"], w["id"]) for w in worlds])
    return worlds
