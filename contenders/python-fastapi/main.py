"""FastAPI reference contender for bakeoff (see docs/contract.md).

Runs on uvicorn with uvloop and httptools. Two switches select the variants:

- DB_LAYER: `raw` (default, db_raw.py: stdlib sqlite3 in `def` path operations
  on FastAPI's threadpool; db_pg.py when BAKEOFF_DATABASE_URL is set: asyncpg in
  `async def` path operations) or `orm` (db_orm.py: SQLAlchemy asyncio on
  aiosqlite, or on asyncpg when BAKEOFF_DATABASE_URL is set).
- HTTP_CLIENT: `httpx` (default, one httpx.AsyncClient per worker) or
  `aiohttp` (one aiohttp.ClientSession per worker) for /io.

Jinja2 templates, pandas for /data (imported only when BAKEOFF_DATA is set),
and a native WebSocket chat room.
"""

import os
from contextlib import AsyncExitStack, asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse

from workers import StartBarrier


def choice(name: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, allowed[0])
    if value not in allowed:
        raise SystemExit(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


DB_LAYER = choice("DB_LAYER", ("raw", "orm"))
HTTP_CLIENT = choice("HTTP_CLIENT", ("httpx", "aiohttp"))
UPSTREAM = os.environ["BAKEOFF_UPSTREAM"].rstrip("/")
DATA_PATH = os.environ.get("BAKEOFF_DATA")
IO_TIMEOUT_S = 15.0  # upstream delays are at most 10 s; 15 s in every contender

if DB_LAYER == "orm":
    import db_orm as db_layer
elif os.environ.get("BAKEOFF_DATABASE_URL"):
    import db_pg as db_layer
else:
    import db_raw as db_layer

if HTTP_CLIENT == "aiohttp":
    import aiohttp
else:
    import httpx


class ChatRoom:
    """Every connected socket of this worker; bakeoff runs /ws with one worker."""

    def __init__(self) -> None:
        self.connections: set[WebSocket] = set()

    async def broadcast(self, message: str) -> None:
        for connection in list(self.connections):
            try:
                await connection.send_text(message)
            except (WebSocketDisconnect, RuntimeError):
                self.connections.discard(connection)


room = ChatRoom()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if DATA_PATH:
        # Only launches that serve /data pay for pandas; each worker loads it.
        import pandas as pd

        # The labels repeat: categorical, as pandas documents for such columns.
        sales = pd.read_csv(DATA_PATH, dtype={"region": "category", "product": "category"})
        app.state.sales = sales
        app.state.regions = frozenset(sales["region"].cat.categories)
    await db_layer.connect()
    async with AsyncExitStack() as stack:
        if HTTP_CLIENT == "aiohttp":
            timeout = aiohttp.ClientTimeout(total=IO_TIMEOUT_S)
            app.state.http = await stack.enter_async_context(
                aiohttp.ClientSession(timeout=timeout)
            )
        else:
            app.state.http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=UPSTREAM, timeout=IO_TIMEOUT_S)
            )
        barrier = StartBarrier()
        await barrier.wait()
        try:
            yield
        finally:
            barrier.leave()
    await db_layer.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
app.include_router(db_layer.router)


def clamp_int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        n = int(value) if value is not None else default
    except ValueError:
        return default
    return min(max(n, low), high)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_endpoint() -> dict:
    return {"message": "Hello, World!"}


def upstream_failed(exc: Exception) -> JSONResponse:
    return JSONResponse({"error": f"upstream call failed: {exc!r}"}, status_code=502)


if HTTP_CLIENT == "aiohttp":

    @app.get("/io")
    async def io(request: Request, ms: str | None = None):
        params = {"ms": clamp_int(ms, 0, 0, 10_000)}
        try:
            async with request.app.state.http.get(f"{UPSTREAM}/delay", params=params) as resp:
                resp.raise_for_status()
                return await resp.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return upstream_failed(exc)

else:

    @app.get("/io")
    async def io(request: Request, ms: str | None = None):
        params = {"ms": clamp_int(ms, 0, 0, 10_000)}
        try:
            resp = await request.app.state.http.get("/delay", params=params)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            return upstream_failed(exc)
        return resp.json()


def count_primes(n: int) -> int:
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


# CPU-bound endpoints are plain `def`: FastAPI runs them in its threadpool so
# the event loop stays free, as its documentation advises for blocking code.
@app.get("/cpu")
def cpu(n: str | None = None) -> dict:
    limit = clamp_int(n, 10_000, 1, 10_000_000)
    return {"n": limit, "primes": count_primes(limit)}


@app.get("/data")
def data(request: Request, region: str | None = None):
    if not DATA_PATH:
        return JSONResponse(
            {"error": "BAKEOFF_DATA is not set: this launch has no sales dataset"},
            status_code=503,
        )
    if region not in request.app.state.regions:
        return JSONResponse({"error": f"unknown region: {region!r}"}, status_code=404)
    sales = request.app.state.sales
    rows = sales[sales["region"] == region]
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
    return {"region": region, "products": summary.to_dict(orient="records")}


@app.websocket("/ws")
async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    room.connections.add(websocket)
    try:
        while True:
            await room.broadcast(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
    finally:
        room.connections.discard(websocket)
