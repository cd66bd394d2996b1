"""Start-up barrier for `uvicorn --workers N` (N > 1).

uvicorn's supervisor binds the socket and shares it with N spawned workers, so
the first worker through its lifespan start-up answers /health alone while the
others still import and connect (0.15 s of 0.85 s at N=4), and start-up time
and idle memory read short. The contract wants /health 200 only once every
worker serves (docs/contract.md), as the Node contenders' cluster primary and
the gunicorn contenders' post_worker_init give. Each worker leaves a mark named
by its pid in a directory of its supervisor's and ends its start-up only when N
live workers have: a replacement started later finds the others' marks.
"""

import asyncio
import logging
import os
import tempfile
import time
from pathlib import Path

WORKERS = int(os.environ.get("BAKEOFF_WORKERS", "1"))
WAIT_S = 30.0  # then serve anyway, under the manifest's 60 s start timeout
POLL_S = 0.01
log = logging.getLogger("uvicorn.error")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StartBarrier:
    def __init__(self) -> None:
        # The supervisor's pid and the port: a directory per server, and a dead
        # server's leftover marks name dead pids, which are not counted.
        port = os.environ.get("PORT", "0")
        self.dir = Path(tempfile.gettempdir()) / f"bakeoff-uvicorn-{os.getppid()}-{port}"
        self.mark = self.dir / str(os.getpid())

    def started(self) -> int:
        return sum(1 for e in os.listdir(self.dir) if e.isdigit() and _alive(int(e)))

    async def wait(self) -> None:
        """Mark this worker started, then wait until every worker has."""
        if WORKERS <= 1:
            return  # uvicorn runs one worker in-process: nothing to wait for
        self.dir.mkdir(exist_ok=True)
        self.mark.touch()
        deadline = time.monotonic() + WAIT_S
        while self.started() < WORKERS:
            if time.monotonic() > deadline:
                log.warning("not every worker started within %.0f s; serving anyway", WAIT_S)
                return
            await asyncio.sleep(POLL_S)

    def leave(self) -> None:
        if WORKERS <= 1:
            return
        self.mark.unlink(missing_ok=True)
        try:
            self.dir.rmdir()  # the last worker out removes it
        except OSError:
            pass
