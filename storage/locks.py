"""Locks held for as long as a piece of work runs: a whole `coopspider run`, one site's crawl.

Both kinds end with their holder, however it ends, so a crash never leaves a stale lock:
- a file lock (flock): the kernel drops it when the process ends. It reaches the processes of one
  machine, which is all that can share a SQLite file.
- a PostgreSQL session-level advisory lock, on a connection of its own held open for the block:
  the server drops it when that connection ends. It reaches every machine writing to the archive.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from storage.db import Database

# The holder's connection names itself so that the one refused can say who holds the lock.
_HOLDER_PREFIX = "coopspider: "


class LockHeld(Exception):
    """Another process holds the lock `lock`; `holder` says which, when it is known."""

    def __init__(self, lock: str, holder: str | None) -> None:
        super().__init__(f"{lock} ({holder})" if holder else lock)
        self.lock = lock
        self.holder = holder


class LockUnavailable(Exception):
    """The lock file cannot be created or opened."""


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `path` for the block; raise LockHeld at once if taken.

    The holder's pid is written into the file for the refused one's message.
    """
    path = path.absolute()  # the message names the file wherever the process was started
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" neither truncates nor needs the file to exist: the holder's pid stays readable.
        handle = path.open("a+", encoding="ascii")
    except OSError as error:
        raise LockUnavailable(f"cannot take the lock {path}: {error.strerror or error}") from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_pid(handle)
            raise LockHeld(str(path), f"pid {holder}" if holder else None) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)


def _holder_pid(handle: TextIO) -> str | None:
    """The pid the lock's holder wrote; it writes just after taking the lock, so wait briefly
    for a holder that has only just started."""
    for _ in range(20):
        handle.seek(0)
        if holder := handle.read().strip():
            return holder
        time.sleep(0.05)
    return None


@contextmanager
def archive_lock(database: Database, name: str) -> Iterator[None]:
    """Hold the archive's lock `name` for the block; raise LockHeld at once if another holds it.

    PostgreSQL: an advisory lock keyed on the archive's schema and `name` (archives in other
    schemas of the same database do not share it), on every machine. SQLite: a file lock named
    after `name` next to the archive file. An archive without a file (in memory) is seen by
    this process alone: nothing to lock.
    """
    if database.dialect == "postgresql":
        with _advisory_lock(database, name):
            yield
        return
    archive = database.file
    if archive is None:
        yield
        return
    with file_lock(archive.with_name(f"{archive.name}.{quote(name, safe='')}.lock")):
        yield


@contextmanager
def _advisory_lock(database: Database, name: str) -> Iterator[None]:
    # Autocommit: the connection holds the lock without keeping a transaction open for hours.
    with database.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
        key = _advisory_key(f"{schema}\0{name}")
        taken = connection.exec_driver_sql("SELECT pg_try_advisory_lock(%(key)s)", {"key": key})
        if not taken.scalar():
            raise LockHeld(f'"{name}" of the archive', _advisory_holder(connection, key))
        label = f"{_HOLDER_PREFIX}pid {os.getpid()} on {socket.gethostname()}"
        connection.exec_driver_sql(
            "SELECT set_config('application_name', %(label)s, false)", {"label": label}
        )
        try:
            yield
        finally:
            # Closing returns the connection to the pool, which would keep the lock: unlock.
            connection.exec_driver_sql("SELECT pg_advisory_unlock(%(key)s)", {"key": key})


def _advisory_key(text: str) -> int:
    """A signed 64-bit key for `text`, the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), signed=True)


def _advisory_holder(connection: Connection, key: int) -> str | None:
    """Who holds the advisory lock `key`, as its connection named itself; None if unknown.
    PostgreSQL shows a 64-bit key as two 32-bit halves (classid, objid)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    holder = connection.exec_driver_sql(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid = %(high)s::oid AND l.objid = %(low)s::oid",
        {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF},
    ).scalar()
    if not holder or not holder.startswith(_HOLDER_PREFIX):
        return None
    return holder.removeprefix(_HOLDER_PREFIX)
