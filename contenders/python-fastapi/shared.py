"""What both database layers (db_raw.py, db_orm.py) share with main.py."""

import os
from pathlib import Path

from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

# The contract's settings, the same in every contender: WAL with NORMAL sync
# (durable at checkpoints, what better-sqlite3 builds with) and a busy timeout,
# since workers write concurrently in /updates.
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")
EXTRA_FORTUNE = "Additional fortune added at request time."


def query_count(queries: str = "1") -> int:
    """TechEmpower's rule: missing or invalid means 1, clamped to 1..500."""
    try:
        n = int(queries)
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def db_pool_size() -> int:
    """BAKEOFF_DB_POOL_SIZE: the pool's size in each worker process (10 if unset)."""
    raw = os.environ.get("BAKEOFF_DB_POOL_SIZE", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= 1024:
        raise SystemExit(f"BAKEOFF_DB_POOL_SIZE={raw!r} is not an integer between 1 and 1024")
    return int(raw)
