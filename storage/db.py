"""Database URLs, engines and migrations: open a database ready to use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///data/coopspider.sqlite3"
DATABASE_URL_ENV = "COOPSPIDER_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30


def resolve_database_url(setting: str | None) -> str:
    """The setting if non-empty, else $COOPSPIDER_DATABASE_URL, else the default SQLite file."""
    if setting and setting.strip():
        return setting.strip()
    from_env = os.environ.get(DATABASE_URL_ENV, "").strip()
    return from_env or DEFAULT_DATABASE_URL


def create_db_engine(url: str, *, foreign_keys: bool = True, read_only: bool = False) -> Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and serialised write transactions.

    `foreign_keys=False` is for migrations only: SQLite's batch mode rebuilds a table by dropping
    it, which with enforcement on would fail or cascade to the rows that refer to it.
    `read_only=True` is for readers (export, diff, reports): their transactions never write and,
    on SQLite, never take the write lock, so a long read does not hold up a crawl.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        options = {"postgresql_readonly": True} if read_only else {}
        return create_engine(parsed, pool_pre_ping=True, execution_options=options)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so SAVEPOINT works and BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the file; a power cut can only drop the last commits,
        # which the next crawl fetches again. FULL would fsync on every article.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: concurrent writers wait for each other
        # (busy_timeout) instead of failing when a read transaction later tries to write.
        # A reader's plain BEGIN reads a WAL snapshot and never waits for writers, nor they for it.
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


# SQLite's result code for a read-only database (its extended codes share the low byte), and
# PostgreSQL's SQLSTATEs for a role without the right and for a read-only transaction.
_SQLITE_READONLY = 8
_PG_REFUSED_WRITES = {"42501", "25006"}


class ArchiveNotWritable(Exception):
    """The database refuses writes here; the message says why, in one line."""


def refuses_writes(error: BaseException) -> bool:
    """Whether a database error says the archive cannot be written here: a read-only SQLite
    file or folder, a PostgreSQL role without write rights, a read-only transaction."""
    driver_error = getattr(error, "orig", error)
    code = getattr(driver_error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == _SQLITE_READONLY
    return getattr(driver_error, "sqlstate", None) in _PG_REFUSED_WRITES


def database_problem(error: BaseException) -> str:
    """A database error in one line: the driver's own first line, without SQLAlchemy's
    statement, parameters and link; for a refused write, what usually causes it."""
    driver_error = getattr(error, "orig", None) or error
    lines = str(driver_error).strip().splitlines()
    problem = lines[0] if lines else type(driver_error).__name__
    if refuses_writes(error):
        problem += " (a read-only file or folder, or a database role without the right to write)"
    return problem


def check_writable(factory: sessionmaker[Session]) -> None:
    """Raise ArchiveNotWritable when the database refuses writes here. Tried with an update that
    changes no row, rolled back: the database checks the right before it looks for rows."""
    from sqlalchemy import false, update
    from sqlalchemy.exc import DBAPIError

    from storage.models import CrawlRun

    try:
        with factory() as session:
            session.execute(update(CrawlRun).where(false()).values(status=CrawlRun.status))
            session.rollback()
    except DBAPIError as error:
        if refuses_writes(error):
            raise ArchiveNotWritable(database_problem(error)) from error
        raise


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `url` using the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # ConfigParser interpolates '%': escape it (percent-encoded passwords, query options).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; a no-op when the database is already there."""
    command.upgrade(alembic_config(url), revision)


def downgrade_database(url: str, revision: str) -> None:
    """Revert migrations down to `revision` ("base" drops every table)."""
    command.downgrade(alembic_config(url), revision)


def open_database(url: str, *, read_only: bool = False) -> sessionmaker[Session]:
    """Migrate the database at `url` to the latest schema and return a session factory.

    Use it as `with factory.begin() as session: ...`; the caller owns the transaction.
    `factory.kw["bind"].dispose()` closes the pooled connections. Commands that only read ask
    for `read_only=True` (see create_db_engine): their sessions cannot write.
    """
    upgrade_database(url)
    return sessionmaker(create_db_engine(url, read_only=read_only), expire_on_commit=False)
