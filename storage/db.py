"""Database URLs, engines and migrations: open a database ready to use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///data/coopspider.sqlite3"
DATABASE_URL_ENV = "COOPSPIDER_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30
# The newest migration in MIGRATIONS_DIR (a test ties the two). Opening an archive already at it
# needs one query and no Alembic, whose import costs a quick read command a third of its time.
HEAD_REVISION = "0008"


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
    if database and not read_only and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so SAVEPOINT works and BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        if not read_only:  # WAL is a property of the file: the writer that made it set it
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
    if getattr(driver_error, "sqlstate", None) == "42501":
        problem += " (the database role lacks a right it needs on the archive: GRANT it)"
    elif refuses_writes(error):
        problem += " (a read-only file or folder, or a read-only database)"
    return problem


class Database:
    """An open archive (from `open_database`): sessions on it, and `close()` for its connections.

    `with database.begin() as session:` runs one transaction, committed at the end (rolled back
    on an error); `with database.session() as session:` leaves the transaction to the caller;
    `with database.read() as connection:` reads the tables without the ORM. Used as a context
    manager, it closes itself at the end of the block.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._orm_sessions: sessionmaker[Session] | None = None

    @property
    def _sessions(self) -> sessionmaker[Session]:
        # The ORM and the models, once a session is asked for: readers that query the tables
        # (`read()`) never import them.
        if self._orm_sessions is None:
            from sqlalchemy.orm import sessionmaker

            import storage.models  # noqa: F401

            self._orm_sessions = sessionmaker(self._engine, expire_on_commit=False)
        return self._orm_sessions

    @property
    def dialect(self) -> str:
        """The database's kind: "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    @property
    def file(self) -> Path | None:
        """The SQLite archive's file; None for PostgreSQL and for a database in memory."""
        return sqlite_file(self._engine.url)

    def session(self) -> Session:
        """A new session; use it as `with database.session() as session:`."""
        return self._sessions()

    def begin(self) -> AbstractContextManager[Session]:
        """A new session inside a transaction, committed when the block ends without error."""
        return self._sessions.begin()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside one transaction, for queries on the tables of storage.schema
        without the ORM: `with database.read() as connection:`. Everything it reads comes from
        one snapshot of the archive."""
        with self._engine.connect() as connection, connection.begin():
            yield connection

    def connect(self) -> Connection:
        """A connection for SQL below the ORM (schema comparison, bulk loads); use it as
        `with database.connect() as connection:`, committing what it writes."""
        return self._engine.connect()

    def close(self) -> None:
        """Close the pooled connections; a later session would open new ones."""
        self._engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def check_writable(database: Database) -> None:
    """Raise ArchiveNotWritable when the database refuses writes here. Tried with an update that
    changes no row, rolled back: the database checks the right before it looks for rows."""
    from sqlalchemy import false, update
    from sqlalchemy.exc import DBAPIError

    from storage.models import CrawlRun

    try:
        with database.session() as session:
            session.execute(update(CrawlRun).where(false()).values(status=CrawlRun.status))
            session.rollback()
    except DBAPIError as error:
        if refuses_writes(error):
            raise ArchiveNotWritable(database_problem(error)) from error
        raise


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                (target / entry.name).mkdir()
                _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


@contextmanager
def folder_on_disk(shipped: Traversable) -> Iterator[Path]:
    """`shipped` (package data) as a folder on disk for as long as the block runs: itself when
    it is one, else a temporary copy (package data inside a zip, such as an egg on Scrapyd)."""
    if isinstance(shipped, Path):
        yield shipped
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="coopspider-data-") as copy:
        _copy_tree(shipped, Path(copy))
        yield Path(copy)


def migrations_directory() -> AbstractContextManager[Path]:
    """The shipped migrations as a folder on disk: Alembic lists and loads its scripts from one."""
    from importlib import resources

    return folder_on_disk(resources.files(__package__ or "storage").joinpath("migrations"))


def alembic_config(url: str, script_location: Path = MIGRATIONS_DIR) -> Config:
    """An Alembic configuration for `url` using the migrations in `script_location` (by default
    the folder of an installed package; see migrations_directory for a zipped one)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    # ConfigParser interpolates '%': escape it (percent-encoded passwords, query options).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; a no-op when the database is already there."""
    from alembic import command

    with migrations_directory() as directory:
        command.upgrade(alembic_config(url, directory), revision)


def downgrade_database(url: str, revision: str) -> None:
    """Revert migrations down to `revision` ("base" drops every table)."""
    from alembic import command

    with migrations_directory() as directory:
        command.downgrade(alembic_config(url, directory), revision)


class ArchiveMissing(Exception):
    """Nothing to read at the URL: no SQLite file, or a database without the archive's tables."""


class ArchiveOutdated(Exception):
    """The archive's schema is another version's; a writer (a crawl) migrates it."""


class SchemaUnavailable(Exception):
    """PostgreSQL's search_path names no schema the role may use; the message says the fix."""


def open_database(url: str, *, read_only: bool = False, create: bool = True) -> Database:
    """The archive at `url`, opened: see Database.

    Writers (the default) get the database created and migrated to the latest schema first;
    with `create=False` (a writer that only adds to an archive, such as the alert's record of
    what it sent) one that is not there raises ArchiveMissing instead of being made.
    Readers (`read_only=True`, see create_db_engine) create and migrate nothing: their sessions
    cannot write, and an archive that is not there raises ArchiveMissing (ArchiveOutdated when
    its schema is another version's). A PostgreSQL URL whose search_path names no schema the
    role may use raises SchemaUnavailable. The caller owns the transactions
    (`with database.begin() as session: ...`) and closes the database when done.
    """
    must_exist = read_only or not create
    if must_exist and _missing_sqlite_file(url):
        raise ArchiveMissing("no such file")
    engine = create_db_engine(url, read_only=read_only)
    try:
        with engine.connect() as connection:
            _require_schema(connection)
            current = _archive_revision(connection)
        if read_only:
            _require_current(current)
        elif current is None and not create:
            raise ArchiveMissing("no archive tables")
        elif current != HEAD_REVISION:
            upgrade_database(url)
    except BaseException:
        engine.dispose()
        raise
    return Database(engine)


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for other databases, in memory, or a "file:" URI."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database)


def _missing_sqlite_file(url: str) -> bool:
    path = sqlite_file(url)
    return path is not None and not path.is_file()


def _require_schema(connection: Connection) -> None:
    """SchemaUnavailable when PostgreSQL's search_path names no schema the role may use (the
    server then skips them all, and CREATE TABLE fails deep inside the first migration)."""
    if connection.dialect.name != "postgresql":
        return
    if connection.exec_driver_sql("SELECT current_schema()").scalar() is not None:
        return
    path = str(connection.exec_driver_sql("SHOW search_path").scalar() or "")
    names = [name.strip().strip('"') for name in path.split(",") if name.strip()]
    schema = next((name for name in names if name != "$user"), path)
    found = "SELECT 1 FROM pg_namespace WHERE nspname = %(name)s"
    if connection.exec_driver_sql(found, {"name": schema}).first() is None:
        raise SchemaUnavailable(
            f'schema "{schema}" does not exist: create it first (CREATE SCHEMA "{schema}";) '
            "or take the search_path option out of the URL"
        )
    role = connection.exec_driver_sql("SELECT current_user").scalar()
    raise SchemaUnavailable(
        f'role "{role}" may not use schema "{schema}": GRANT USAGE ON SCHEMA "{schema}" '
        f'TO "{role}"; (and CREATE for a role that crawls into a new archive)'
    )


def _archive_revision(connection: Connection) -> str | None:
    """The archive's migration revision; None when it has no migration table (not made yet)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _require_current(revision: str | None) -> None:
    if revision is None:
        raise ArchiveMissing("no archive tables")
    if revision != HEAD_REVISION:
        raise ArchiveOutdated(
            f"has schema revision {revision}, this version of coopspider reads {HEAD_REVISION}"
        )
