"""FastAPI reference contender for bakeoff (see docs/contract.md).

Runs on uvicorn with uvloop and httptools. SQLite through SQLAlchemy's asyncio
ORM on aiosqlite (no blocking I/O on the event loop), Jinja2 templates,
httpx.AsyncClient for /io, pandas for /data, and a native WebSocket chat room.
"""

import os
import random
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, AsyncIterator

import httpx
import pandas as pd
from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

UPSTREAM = os.environ["BAKEOFF_UPSTREAM"].rstrip("/")
IO_TIMEOUT_S = 30.0  # upstream delays are at most 10 s

# timeout is sqlite's busy timeout: workers write concurrently in /updates.
engine = create_async_engine(
    f"sqlite+aiosqlite:///{os.environ['BAKEOFF_SQLITE']}", connect_args={"timeout": 5}
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = "world"

    id: Mapped[int] = mapped_column(primary_key=True)
    random_number: Mapped[int] = mapped_column("randomNumber")

    def as_dict(self) -> dict:
        return {"id": self.id, "randomNumber": self.random_number}


class Fortune(Base):
    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


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
    sales = pd.read_csv(os.environ["BAKEOFF_DATA"])
    app.state.sales = sales
    app.state.regions = frozenset(sales["region"].unique())
    async with httpx.AsyncClient(base_url=UPSTREAM, timeout=IO_TIMEOUT_S) as client:
        app.state.http = client
        yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


def query_count(queries: str = "1") -> int:
    """TechEmpower's rule: missing or invalid means 1, clamped to 1..500."""
    try:
        n = int(queries)
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def clamp_int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        n = int(value) if value is not None else default
    except ValueError:
        return default
    return min(max(n, low), high)


Session = Annotated[AsyncSession, Depends(get_session)]
QueryCount = Annotated[int, Depends(query_count)]


async def random_world(session: AsyncSession, world_id: int) -> World:
    # A SELECT per row (session.get could answer a repeated id from the identity map).
    return (await session.execute(select(World).where(World.id == world_id))).scalar_one()


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_endpoint() -> dict:
    return {"message": "Hello, World!"}


@app.get("/db")
async def single_query(session: Session) -> dict:
    world = await random_world(session, random.randint(1, 10000))
    return world.as_dict()


@app.get("/queries")
async def multiple_queries(session: Session, n: QueryCount) -> list[dict]:
    return [(await random_world(session, random.randint(1, 10000))).as_dict() for _ in range(n)]


@app.get("/fortunes")
async def fortunes(request: Request, session: Session):
    items = list((await session.scalars(select(Fortune))).all())
    items.append(Fortune(id=0, message="Additional fortune added at request time."))
    items.sort(key=lambda f: f.message)
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": items})


@app.get("/updates")
async def updates(session: Session, n: QueryCount) -> list[dict]:
    # Distinct ids, so every returned row is exactly what is persisted.
    worlds = [await random_world(session, wid) for wid in random.sample(range(1, 10001), n)]
    for world in worlds:
        world.random_number = random.randint(1, 10000)
    await session.commit()  # one transaction: the ORM batches the UPDATEs
    return [world.as_dict() for world in worlds]


@app.get("/io")
async def io(request: Request, ms: str | None = None):
    delay = clamp_int(ms, 0, 0, 10_000)
    try:
        resp = await request.app.state.http.get("/delay", params={"ms": delay})
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        return JSONResponse({"error": f"upstream call failed: {exc}"}, status_code=502)
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
    if region not in request.app.state.regions:
        return JSONResponse({"error": f"unknown region: {region!r}"}, status_code=404)
    sales = request.app.state.sales
    rows = sales[sales["region"] == region]
    rows = rows.assign(revenue=rows["units"] * rows["unit_price"])
    summary = (
        rows.groupby("product", as_index=False)
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
