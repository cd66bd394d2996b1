"""The `orm` database layer (DB_LAYER=orm): SQLAlchemy 2.0's asyncio ORM.

The `python-fastapi@orm` variant, as TechEmpower's FastAPI ORM entry
(frameworks/Python/fastapi/app_orm.py): async path operations. On SQLite through
aiosqlite, each statement run on its connection's own thread, never on the event
loop; with BAKEOFF_DATABASE_URL, on PostgreSQL through asyncpg
(`postgresql+asyncpg`), SQLAlchemy's pool of BAKEOFF_DB_POOL_SIZE connections
per worker process.
"""

import os
import random
from typing import Annotated, AsyncIterator

from fastapi import APIRouter, Depends, Request
from sqlalchemy import event, make_url, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import EXTRA_FORTUNE, PRAGMAS, db_pool_size, query_count, templates

DATABASE_URL = os.environ.get("BAKEOFF_DATABASE_URL")

if DATABASE_URL:
    # SQLAlchemy names the driver in the URL's scheme. Its pool opens
    # connections on demand, and with no overflow the worker never holds more
    # than BAKEOFF_DB_POOL_SIZE.
    engine = create_async_engine(
        make_url(DATABASE_URL).set(drivername="postgresql+asyncpg"),
        pool_size=db_pool_size(),
        max_overflow=0,
    )
else:
    engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ['BAKEOFF_SQLITE']}")

    @event.listens_for(engine.sync_engine, "connect")
    def set_pragmas(dbapi_connection, connection_record) -> None:
        # SQLAlchemy's documented hook for per-connection SQLite PRAGMAs.
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()


SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = "world"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Column `randomnumber`: PostgreSQL folds TechEmpower's unquoted randomNumber
    # to lower case, and SQLite's names ignore case, so one spelling fits both.
    random_number: Mapped[int] = mapped_column("randomnumber")

    def as_dict(self) -> dict:
        return {"id": self.id, "randomNumber": self.random_number}


class Fortune(Base):
    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


router = APIRouter()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
QueryCount = Annotated[int, Depends(query_count)]


async def random_world(session: AsyncSession, world_id: int) -> World:
    # A SELECT per row (session.get could answer a repeated id from the identity map).
    return (await session.execute(select(World).where(World.id == world_id))).scalar_one()


@router.get("/db")
async def single_query(session: Session) -> dict:
    world = await random_world(session, random.randint(1, 10000))
    return world.as_dict()


@router.get("/queries")
async def multiple_queries(session: Session, n: QueryCount) -> list[dict]:
    return [(await random_world(session, random.randint(1, 10000))).as_dict() for _ in range(n)]


@router.get("/fortunes")
async def fortunes(request: Request, session: Session):
    items = list((await session.scalars(select(Fortune))).all())
    items.append(Fortune(id=0, message=EXTRA_FORTUNE))
    items.sort(key=lambda f: f.message)
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": items})


@router.get("/updates")
async def updates(session: Session, n: QueryCount) -> list[dict]:
    # Distinct ids, so every returned row is exactly what is persisted.
    worlds = [await random_world(session, wid) for wid in random.sample(range(1, 10001), n)]
    for world in worlds:
        world.random_number = random.randint(1, 10000)
    # One transaction: the ORM batches the UPDATEs, in primary-key order.
    await session.commit()
    return [world.as_dict() for world in worlds]


async def connect() -> None:
    """The engine's pool opens connections on first use."""


async def close() -> None:
    await engine.dispose()
