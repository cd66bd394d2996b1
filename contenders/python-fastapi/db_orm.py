"""The `orm` database layer (DB_LAYER=orm): SQLAlchemy 2.0's asyncio ORM on aiosqlite.

The `python-fastapi@orm` variant, as TechEmpower's FastAPI ORM entry
(frameworks/Python/fastapi/app_orm.py): async path operations, each statement
run by aiosqlite on its connection's own thread, never on the event loop.
"""

import os
import random
from typing import Annotated, AsyncIterator

from fastapi import APIRouter, Depends, Request
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import EXTRA_FORTUNE, PRAGMAS, query_count, templates

engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ['BAKEOFF_SQLITE']}")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


@event.listens_for(engine.sync_engine, "connect")
def set_pragmas(dbapi_connection, connection_record) -> None:
    # SQLAlchemy's documented hook for per-connection SQLite PRAGMAs.
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


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
    await session.commit()  # one transaction: the ORM batches the UPDATEs
    return [world.as_dict() for world in worlds]


async def close() -> None:
    await engine.dispose()
