"""Shared fixtures: the sample site on 127.0.0.1, the test database and the real spider.

`COOPSPIDER_TEST_DATABASE=postgresql` runs every test that takes `database_url` against a fresh
schema of the PostgreSQL server at $COOPSPIDER_TEST_POSTGRES_URL (default: the local trust-auth
server) instead of a SQLite file; in that mode a server that does not answer fails the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError

from coopspider.sample_site import SampleServer, build_site, serve
from storage import Database, open_database, start_run
from tests.helpers import ROOT, T0, WARC_DIR_ENV

# Politeness off: the server is ours, on loopback.
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "LOG_LEVEL=INFO",
]


@dataclass
class CrawlResult:
    """What one `scrapy crawl` run left behind."""

    returncode: int
    items: list[dict[str, Any]]
    log: str

    @property
    def articles(self) -> list[dict[str, Any]]:
        """Article items (not the 304/404 answers about known articles, which carry no body)."""
        return [item for item in self.items if "body" in item]

    @property
    def counters(self) -> list[dict[str, Any]]:
        return [item for item in self.items if "online" in item]


@pytest.fixture
def sample_server() -> Iterator[SampleServer]:
    with serve(build_site()) as server:
        yield server


def pytest_configure(config: pytest.Config) -> None:
    """Crawls the tests start without a WARC folder of their own write to one of the session
    (clean_env keeps it), never to the checkout's data/warc."""
    os.environ.setdefault(WARC_DIR_ENV, tempfile.mkdtemp(prefix="coopspider-test-warc-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = os.environ.get(WARC_DIR_ENV, "")
    if Path(folder).name.startswith("coopspider-test-warc-"):
        shutil.rmtree(folder, ignore_errors=True)


# Inputs each fuzz target was given in this session, printed at the end of the test log.
FUZZ_INPUTS: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FUZZ_INPUTS:
        terminalreporter.write_sep("-", "fuzz inputs tried (hypothesis)")
        for target, count in sorted(FUZZ_INPUTS.items()):
            terminalreporter.write_line(f"{count:7d}  {target}")


TEST_DATABASE_ENV = "COOPSPIDER_TEST_DATABASE"
PG_URL_ENV = "COOPSPIDER_TEST_POSTGRES_URL"
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def selected_test_database() -> str:
    """ "sqlite" (the default) or "postgresql", from $COOPSPIDER_TEST_DATABASE."""
    kind = os.environ.get(TEST_DATABASE_ENV, "").strip().lower() or "sqlite"
    if kind not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"{TEST_DATABASE_ENV} must be sqlite or postgresql, not {kind!r}")
    return kind


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An engine on the test PostgreSQL database.

    Skips when psycopg or the server is missing, unless the suite runs on PostgreSQL: then fails.
    """
    required = selected_test_database() == "postgresql"
    if not required:
        pytest.importorskip("psycopg")
    engine = create_engine(
        os.environ.get(PG_URL_ENV, PG_DEFAULT_URL), connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        engine.dispose()
        if required:
            pytest.fail(f"PostgreSQL does not answer: {exc.orig}")
        pytest.skip(f"PostgreSQL does not answer: {exc.orig}")
    yield engine
    engine.dispose()


@contextmanager
def fresh_pg_schema(admin: Engine, prefix: str = "test") -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; the schema is dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty archive: a SQLite file, or a fresh PostgreSQL schema in PostgreSQL mode."""
    if selected_test_database() == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.sqlite3'}"
        return
    with fresh_pg_schema(request.getfixturevalue("pg_admin")) as url:
        yield url


def crawl_command(base_url: str, database_url: str, feed: Path, *extra: str) -> list[str]:
    """`scrapy crawl lienminh` on `base_url` into `database_url`, politeness off, feed to `feed`,
    WARC files into the folder "warc" beside the feed (never the checkout's data/warc)."""
    return [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "lienminh",
        "-a",
        f"base_url={base_url}",
        "-s",
        f"DATABASE_URL={database_url}",
        "-O",
        f"{feed}:jsonl",
        "-s",
        f"WARC_DIR={feed.parent / 'warc'}",
        *FAST,
        *extra,
    ]


def read_feed(feed: Path) -> list[dict[str, Any]]:
    """The items of a JSON lines feed; none when the crawl wrote none."""
    if not feed.exists():
        return []
    lines = feed.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def scrapy_crawl(base_url: str, database_url: str, feed: Path, *extra: str) -> CrawlResult:
    """Run `scrapy crawl lienminh` from the repository root in a child process, as a user would."""
    command = crawl_command(base_url, database_url, feed, *extra)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    return CrawlResult(done.returncode, read_feed(feed), done.stderr)


# The storage fixtures: every test that takes them runs on SQLite and on PostgreSQL.


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'archive.sqlite3'}"
        return
    with fresh_pg_schema(request.getfixturevalue("pg_admin"), "test_storage") as url:
        yield url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """The opened (migrated) database; its connections are closed afterwards."""
    opened = open_database(db_url)
    yield opened
    opened.close()


@pytest.fixture
def run_id(database: Database) -> int:
    with database.begin() as session:
        return start_run(
            session, site="thaibinh", spider="coop", base_url="http://x/", started_at=T0
        )
