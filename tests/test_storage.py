"""Storage: migrations, versioning, timestamps, runs, counters and export, on SQLite and PostgreSQL.

PostgreSQL tests use $COOPSPIDER_TEST_POSTGRES_URL (default: the local trust-auth server) with a
schema of their own, dropped afterwards; they are skipped when the server does not answer (and
fail, when the suite runs with COOPSPIDER_TEST_DATABASE=postgresql).
"""

from __future__ import annotations

import ast
import importlib
import logging
import math
import multiprocessing
import re
import threading
import time
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

import storage
from storage import (
    DEFAULT_DATABASE_URL,
    UTC_PLUS_7,
    ArchiveMissing,
    ArchiveOutdated,
    Article,
    ArticleVersion,
    Base,
    CounterObservation,
    Database,
    alembic_config,
    article_as_dict,
    content_hash,
    count_articles,
    described_by_models,
    downgrade_database,
    finish_run,
    get_run,
    latest_versions,
    list_events,
    open_database,
    record_event,
    resolve_database_url,
    save_counter,
    start_run,
    store_articles,
    upgrade_database,
)
from storage.db import HEAD_REVISION, MIGRATIONS_DIR, folder_on_disk
from tests.helpers import T0, make_article, wait_until

TABLES = {"crawl_runs", "articles", "article_versions", "counter_observations", "change_events"}


def alembic_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


# --- database URL --------------------------------------------------------------------------


def test_resolve_database_url_prefers_setting_then_env_then_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COOPSPIDER_DATABASE_URL", raising=False)
    assert resolve_database_url(None) == DEFAULT_DATABASE_URL == "sqlite:///data/coopspider.sqlite3"
    assert resolve_database_url("") == DEFAULT_DATABASE_URL
    monkeypatch.setenv("COOPSPIDER_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert resolve_database_url(None) == "postgresql+psycopg://u@h/db"
    assert resolve_database_url("  ") == "postgresql+psycopg://u@h/db"
    assert resolve_database_url("sqlite:///other.sqlite3") == "sqlite:///other.sqlite3"


def test_default_url_is_relative_to_working_directory(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COOPSPIDER_DATABASE_URL", raising=False)
    opened = open_database(resolve_database_url(None))
    opened.close()
    assert (tmp_path / "data" / "coopspider.sqlite3").is_file()


# --- migrations ----------------------------------------------------------------------------


def test_head_revision_constant_is_the_newest_migration() -> None:
    # open_database trusts HEAD_REVISION to skip Alembic: a new migration must move it too.
    assert head_revision(DEFAULT_DATABASE_URL) == HEAD_REVISION


@pytest.mark.slow
def test_migrations_inside_a_zip_are_read_from_a_temporary_copy(tmp_path: Path) -> None:
    # The layout of a zipped egg, as Scrapyd runs a deployed project.
    egg = tmp_path / "project.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        for script in sorted(MIGRATIONS_DIR.rglob("*.py")):
            if "__pycache__" not in script.parts:
                archive.write(script, f"storage/{script.relative_to(MIGRATIONS_DIR.parent)}")
    with folder_on_disk(zipfile.Path(egg, "storage/migrations/")) as folder:
        assert folder.is_dir() and not folder.is_relative_to(egg)
        script_directory = ScriptDirectory.from_config(alembic_config("sqlite://", folder))
        assert script_directory.get_current_head() == HEAD_REVISION
    assert not folder.exists()


def test_migrations_apply_on_first_open_and_are_idempotent(db_url: str, run_id: int) -> None:
    engine = create_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert alembic_revision(engine) == head_revision(db_url) is not None
        reopened = open_database(db_url)
        with reopened.begin() as session:
            assert get_run(session, run_id) is not None
        reopened.close()
        upgrade_database(db_url)
        assert alembic_revision(engine) == head_revision(db_url)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_migrated_schema_matches_models(database: Database) -> None:
    with database.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": described_by_models}
        )
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.slow
def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    opened = open_database(db_url)
    with opened.begin() as session:
        run = start_run(session, site="s", spider="p", base_url="http://x/", started_at=T0)
        store_articles(session, [make_article()], run)
    opened.close()

    engine = create_engine(db_url)
    try:
        downgrade_database(db_url, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert alembic_revision(engine) is None
        upgrade_database(db_url)
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert alembic_revision(engine) == head_revision(db_url)
    finally:
        engine.dispose()
    reopened = open_database(db_url)
    with reopened.begin() as session:
        assert count_articles(session) == 0
        run = start_run(session, site="s", spider="p", base_url="http://x/", started_at=T0)
        assert store_articles(session, [make_article()], run)[0].result == "new"
    reopened.close()


def test_opening_for_reading_creates_nothing(db_url: str) -> None:
    with pytest.raises(ArchiveMissing):
        open_database(db_url, read_only=True)
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        assert not Path(url.database or "").parent.exists()  # not even its folder
        return
    engine = create_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.slow
def test_opening_an_older_archive_for_reading_migrates_nothing(db_url: str) -> None:
    head = head_revision(db_url)
    scripts = ScriptDirectory.from_config(alembic_config(db_url))
    older = scripts.get_revision(head).down_revision
    assert isinstance(older, str)
    upgrade_database(db_url, older)
    with pytest.raises(ArchiveOutdated):
        open_database(db_url, read_only=True)
    engine = create_engine(db_url)
    try:
        assert alembic_revision(engine) == older
    finally:
        engine.dispose()


def test_sqlite_file_settings(tmp_path: Any) -> None:
    database = tmp_path / "a" / "b" / "archive.sqlite3"
    opened = open_database(f"sqlite:///{database}")
    try:
        assert database.is_file()
        with opened.session() as session:
            assert session.scalar(text("PRAGMA journal_mode")) == "wal"
            assert session.scalar(text("PRAGMA foreign_keys")) == 1
            assert session.scalar(text("PRAGMA busy_timeout")) >= 30000
    finally:
        opened.close()


def test_opening_leaves_logging_alone(tmp_path: Any) -> None:
    logger = logging.getLogger("coopspider.test_storage")
    handlers = list(logging.root.handlers)
    level = logging.root.level
    opened = open_database(f"sqlite:///{tmp_path / 'archive.sqlite3'}")
    opened.close()
    assert not logger.disabled
    assert logging.root.handlers == handlers
    assert logging.root.level == level


# --- content hash --------------------------------------------------------------------------


def test_content_hash_ignores_unicode_form_whitespace_and_offset() -> None:
    article = make_article()
    variant = make_article(
        title=unicodedata.normalize("NFD", "  Hội nghị\u00a0tổng kết   năm 2024 "),
        body=unicodedata.normalize("NFD", article["body"]).replace(" ", "  \t"),
        published_at="2022-05-08T17:00:00+00:00",
        images=[
            {"url": " http://lienminhhtx.example/a.jpg", "caption": "(Toàn cảnh\u00a0hội nghị)"}
        ],
        url="https://elsewhere.example/other-1234.html",
        fetched_at="2030-01-01T00:00:00+00:00",
    )
    assert content_hash(article) == content_hash(variant)
    assert re.fullmatch("[0-9a-f]{64}", content_hash(article)), "sha256 in lowercase hex"


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Hội nghị tổng kết năm 2025"},
        {"published_at": "2022-05-10T00:00:00+07:00"},
        {"published_at": None},
        {"author": "Minh Hà"},
        {"summary": "Khác."},
        {"body": "Nội dung mới."},
        {"images": []},
        {"images": [{"url": "http://lienminhhtx.example/a.jpg", "caption": "Khác"}]},
    ],
)
def test_content_hash_sees_real_changes(change: dict[str, Any]) -> None:
    assert content_hash(make_article(**change)) != content_hash(make_article())


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_content_hash_is_stable_under_nfd_and_spacing(body: str) -> None:
    respaced = " ".join(unicodedata.normalize("NFD", body).split(" ")).replace(" ", " \u00a0 ")
    assert content_hash({"title": "t", "body": body}) == content_hash(
        {"title": "t", "body": f"\n{respaced}\t"}
    )


# --- articles and versions -----------------------------------------------------------------


def test_save_new_unchanged_changed_keeps_every_version(database: Database, run_id: int) -> None:
    original = make_article()
    with database.begin() as session:
        assert store_articles(session, [original], run_id)[0].result == "new"

    with database.begin() as session:
        second = start_run(
            session,
            site="thaibinh",
            spider="coop",
            base_url="http://x/",
            started_at=T0 + timedelta(days=1),
        )
    respaced = make_article(
        body=unicodedata.normalize("NFD", original["body"]).replace(" ", "   "),
        title="Hội nghị\u00a0tổng kết năm 2024 ",
        url="https://lienminhhtx.example/tin-tuc-su-kien/hoi-nghi-moi-1234.html",
        fetched_at="2025-03-02T02:00:00+00:00",
    )
    with database.begin() as session:
        assert store_articles(session, [respaced], second)[0].result == "unchanged"

    changed = make_article(
        body=original["body"] + "\n\nĐoạn bổ sung.",
        url=respaced["url"],
        fetched_at="2025-03-03T02:00:00+00:00",
    )
    with database.begin() as session:
        assert store_articles(session, [changed], second)[0].result == "changed"
        assert store_articles(session, [changed], second)[0].result == "unchanged"

    with database.begin() as session:
        article = session.scalars(select(Article)).one()
        assert article.url == respaced["url"]
        assert article.last_run_id == second
        assert article.first_seen_at == datetime(2025, 3, 1, 2, tzinfo=UTC)
        assert article.last_seen_at == datetime(2025, 3, 3, 2, tzinfo=UTC)
        v1, v2 = article.versions
        assert (v1.version, v2.version) == (1, 2)
        assert v1.body == original["body"]
        assert v1.content_hash == content_hash(original)
        assert v1.crawl_run_id == run_id
        assert v1.last_seen_at == datetime(2025, 3, 2, 2, tzinfo=UTC)
        assert v2.body == changed["body"]
        assert v2.crawl_run_id == second
        assert v2.first_seen_at == v2.last_seen_at == datetime(2025, 3, 3, 2, tzinfo=UTC)
        assert count_articles(session) == 1


def test_content_reverting_makes_a_third_version(database: Database, run_id: int) -> None:
    with database.begin() as session:
        bodies = [make_article(body=body) for body in ("A", "B", "A")]
        results = [stored.result for stored in store_articles(session, bodies, run_id)]
        versions = session.scalars(select(ArticleVersion.body).order_by(ArticleVersion.version))
        assert results == ["new", "changed", "changed"]
        assert list(versions) == ["A", "B", "A"]


def test_timestamps_come_back_aware(database: Database, run_id: int) -> None:
    with database.begin() as session:
        store_articles(session, [make_article(published_at="2022-05-09T08:30:00+07:00")], run_id)
    with database.session() as session:
        version = session.scalars(select(ArticleVersion)).one()
        article = version.article
        run = get_run(session, run_id)
        assert run is not None
        moments = [
            version.published_at,
            version.fetched_at,
            version.first_seen_at,
            version.last_seen_at,
            article.first_seen_at,
            article.last_seen_at,
            run.started_at,
        ]
        for moment in moments:
            assert moment is not None
            assert moment.utcoffset() == timedelta(0)
        assert version.published_at == datetime(2022, 5, 9, 1, 30, tzinfo=UTC)
        assert version.published_raw == "Ngày: 09/05/2022"
        assert run.started_at == T0
        exported = article_as_dict(article, version)
        assert exported["published_at"] == "2022-05-09T08:30:00+07:00"
        assert exported["fetched_at"] == "2025-03-01T02:00:00+00:00"


@pytest.mark.slow
def test_naive_datetimes_are_refused(database: Database) -> None:
    with database.session() as session, pytest.raises(ValueError, match="naive"):
        start_run(session, site="s", spider="p", base_url="u", started_at=datetime(2025, 1, 1))


@pytest.mark.slow
def test_article_without_date_or_fetch_time(database: Database, run_id: int) -> None:
    before = datetime.now(UTC)
    with database.begin() as session:
        store_articles(
            session,
            [
                make_article(
                    published_at=None,
                    published_raw=None,
                    author=None,
                    summary=None,
                    images=[],
                    fetched_at="",
                )
            ],
            run_id,
        )
    with database.session() as session:
        version = session.scalars(select(ArticleVersion)).one()
        assert version.published_at is None
        assert version.fetched_at >= before - timedelta(seconds=1)
        exported = article_as_dict(version.article, version)
        assert exported["published_at"] is None
        assert exported["images"] == []


# --- runs and counters ---------------------------------------------------------------------


def test_run_finished_with_json_safe_stats(database: Database, run_id: int) -> None:
    stats = {
        "start_time": T0,
        "elapsed_time_seconds": 12.5,
        "item_scraped_count": 3,
        "coopspider/articles/new": 2,
        "weird": math.nan,
        "nested": {1: ("a", timedelta(seconds=2))},
    }
    with database.begin() as session:
        finish_run(
            session,
            run_id,
            finished_at=T0 + timedelta(minutes=5),
            status="finished",
            finish_reason="finished",
            stats=stats,
        )
    with database.session() as session:
        run = get_run(session, run_id)
        assert run is not None
        assert (run.status, run.finish_reason) == ("finished", "finished")
        assert run.finished_at == T0 + timedelta(minutes=5)
        assert run.stats == {
            "start_time": "2025-03-01T01:00:00+00:00",
            "elapsed_time_seconds": 12.5,
            "item_scraped_count": 3,
            "coopspider/articles/new": 2,
            "weird": "nan",
            "nested": {"1": ["a", 2.0]},
        }
        assert get_run(session, run_id + 1000) is None


def test_run_status_is_checked(database: Database, run_id: int) -> None:
    with database.session() as session:
        with pytest.raises(ValueError):
            finish_run(
                session, run_id, finished_at=T0, status="running", finish_reason=None, stats={}
            )
        with pytest.raises(LookupError):
            finish_run(
                session,
                run_id + 1000,
                finished_at=T0,
                status="failed",
                finish_reason=None,
                stats={},
            )
        finish_run(
            session, run_id, finished_at=T0, status="failed", finish_reason="shutdown", stats={}
        )
        session.commit()
        run = get_run(session, run_id)
        assert run is not None and run.status == "failed"


def test_counters_stored(database: Database, run_id: int) -> None:
    with database.begin() as session:
        save_counter(
            session,
            {
                "site": "thaibinh",
                "url": "http://x/",
                "total": 280451,
                "online": 43,
                "observed_at": "2025-03-01T03:00:00+00:00",
            },
            run_id,
        )
        save_counter(
            session,
            {
                "site": "thaibinh",
                "url": "http://x/a",
                "total": 5_000_000_000,
                "online": None,
                "observed_at": "2025-03-01T04:00:00Z",
            },
            run_id,
        )
        save_counter(
            session,
            {
                "site": "thaibinh",
                "url": "http://x/b",
                "total": None,
                "online": None,
                "observed_at": "2025-03-01T05:00:00+07:00",
            },
            run_id,
        )
    with database.session() as session:
        rows = session.scalars(select(CounterObservation).order_by(CounterObservation.id)).all()
        assert [(r.total, r.online) for r in rows] == [
            (280451, 43),
            (5_000_000_000, None),
            (None, None),
        ]
        assert [r.observed_at for r in rows] == [
            datetime(2025, 3, 1, 3, tzinfo=UTC),
            datetime(2025, 3, 1, 4, tzinfo=UTC),
            datetime(2025, 2, 28, 22, tzinfo=UTC),
        ]
        assert {r.crawl_run_id for r in rows} == {run_id}


# --- export --------------------------------------------------------------------------------


@pytest.mark.slow
def test_export_order_and_latest_version(database: Database, run_id: int) -> None:
    day = "2024-01-{:02d}T09:00:00+07:00"
    with database.begin() as session:
        for site, article_id, published in [
            ("b-site", "1", day.format(5)),
            ("a-site", "10", day.format(1)),
            ("a-site", "11", None),
            ("a-site", "12", day.format(3)),
            ("a-site", "13", day.format(3)),
            ("a-site", "14", day.format(2)),
        ]:
            store_articles(
                session,
                [make_article(site=site, article_id=article_id, published_at=published)],
                run_id,
            )
        store_articles(
            session,
            [make_article(site="a-site", article_id="14", published_at=day.format(2), title="Sửa")],
            run_id,
        )

    with database.session() as session:
        rows = list(latest_versions(session))
        assert [(a.site, a.article_id) for a, _ in rows] == [
            ("a-site", "12"),
            ("a-site", "13"),
            ("a-site", "14"),
            ("a-site", "10"),
            ("a-site", "11"),
            ("b-site", "1"),
        ]
        edited = article_as_dict(*rows[2])
        assert (edited["title"], edited["version"]) == ("Sửa", 2)
        assert [a.article_id for a, _ in latest_versions(session, "b-site")] == ["1"]
        assert count_articles(session) == 6
        assert count_articles(session, "a-site") == 5
        assert count_articles(session, "nowhere") == 0
        assert set(article_as_dict(*rows[0])) == {
            "url",
            "site",
            "article_id",
            "category",
            "title",
            "published_at",
            "published_raw",
            "author",
            "summary",
            "body",
            "images",
            "fetched_at",
            "first_seen_at",
            "last_seen_at",
            "version",
        }
        assert rows[0][1].published_at is not None
        assert rows[0][1].published_at.astimezone(UTC_PLUS_7).day == 3


# --- concurrent writers --------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_writers_keep_constraints(database: Database, run_id: int) -> None:
    threads_count, articles = 6, [make_article(article_id=str(n)) for n in range(5)]
    barrier = threading.Barrier(threads_count)
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            barrier.wait()
            for article in articles:
                with database.begin() as session:
                    results.append(
                        (
                            article["article_id"],
                            store_articles(session, [article], run_id)[0].result,
                        )
                    )
            # Every worker also brings its own edit of one shared article.
            with database.begin() as session:
                store_articles(
                    session, [make_article(article_id="99", body=f"bản {worker}")], run_id
                )
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    tally = Counter(results)
    for article in articles:
        assert tally[(article["article_id"], "new")] == 1
        assert tally[(article["article_id"], "unchanged")] == threads_count - 1
    with database.session() as session:
        assert count_articles(session) == len(articles) + 1
        shared = session.scalars(select(Article).where(Article.article_id == "99")).one()
        assert [v.version for v in shared.versions] == list(range(1, threads_count + 1))


def _open_and_save(url: str, worker: int) -> list[str]:
    """Run in a fresh process: open (and maybe migrate) the database, then write."""
    opened = open_database(url)
    try:
        with opened.begin() as session:
            run = start_run(session, site="s", spider="p", base_url="u", started_at=T0)
        results = []
        for n in range(3):
            with opened.begin() as session:
                results.append(
                    store_articles(session, [make_article(article_id=str(n))], run)[0].result
                )
        with opened.begin() as session:
            store_articles(session, [make_article(article_id="99", body=f"bản {worker}")], run)
        return results
    finally:
        opened.close()


@pytest.mark.slow
def test_processes_opening_a_fresh_database_together(db_url: str) -> None:
    """Cron may start crawls at the same minute: first-use migration and writes must not clash."""
    workers = 4
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_open_and_save, [db_url] * workers, range(workers)))
    assert sorted(r for result in results for r in result) == ["new"] * 3 + ["unchanged"] * 9
    opened = open_database(db_url)
    with opened.session() as session:
        assert count_articles(session) == 4
        shared = session.scalars(select(Article).where(Article.article_id == "99")).one()
        assert [v.version for v in shared.versions] == list(range(1, workers + 1))
    opened.close()


@pytest.mark.parametrize("with_another_article", [False, True])
@pytest.mark.slow
def test_insert_race_recovers(database: Database, run_id: int, with_another_article: bool) -> None:
    """Two writers store the same new article at once: the second uses the winner's row, and still
    creates the other articles of its batch.

    PostgreSQL: the second finds no row, inserts, waits on the unique index for the first's
    transaction and, when that commits, loses the insert race and locks the winner's row.
    SQLite: BEGIN IMMEDIATE makes the second wait before it reads, so there is no race to lose."""
    first = database.session()
    first.begin()
    assert store_articles(first, [make_article()], run_id)[0].result == "new"
    other = make_article(article_id="5678", url="http://lienminhhtx.example/tin-tuc/b-5678.html")
    batch = [make_article(), other] if with_another_article else [make_article()]
    outcome: list[str] = []
    began_at: list[float] = []

    def second_writer() -> None:
        with database.begin() as session:
            session.connection()
            began_at.append(time.monotonic())
            outcome.extend(stored.result for stored in store_articles(session, batch, run_id))

    thread = threading.Thread(target=second_writer)
    with waiting_for_a_lock(database, thread) as waiting:
        thread.start()
        wait_until(waiting, "the second writer to wait for the first", timeout=10)
    committed_at = time.monotonic()
    first.commit()
    first.close()
    thread.join(timeout=60)
    assert outcome == ["unchanged", "new"][: len(batch)]
    if database.dialect == "sqlite":
        assert began_at[0] > committed_at, "the second writer began before the first committed"
    with database.session() as session:
        assert count_articles(session) == len(batch)
        assert len(session.scalars(select(ArticleVersion)).all()) == len(batch)


@contextmanager
def waiting_for_a_lock(
    database: Database, writer: threading.Thread
) -> Iterator[Callable[[], bool]]:
    """A condition true while `writer`'s connection waits for a lock another transaction holds.

    PostgreSQL: its backend has a lock request not granted in pg_locks. SQLite: it has started
    BEGIN IMMEDIATE (which waits, while another writer holds the lock, until that one commits).
    """
    connections: list[Any] = []
    statements: list[str] = []

    def note(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread() is writer:
            connections.append(connection.connection.dbapi_connection)
            statements.append(statement)

    def postgresql_waits() -> bool:
        if not connections:
            return False
        with database.connect() as connection:
            return bool(
                connection.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                    {"pid": connections[-1].info.backend_pid},
                )
            )

    def sqlite_waits() -> bool:
        return "BEGIN IMMEDIATE" in statements

    # Listening on the Engine class sees every engine's statements; `note` keeps the writer's.
    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield postgresql_waits if database.dialect == "postgresql" else sqlite_waits
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def test_offsets_other_than_vietnam_are_kept_as_instants(database: Database, run_id: int) -> None:
    with database.begin() as session:
        store_articles(session, [make_article(published_at="2022-05-09T00:00:00+09:00")], run_id)
    with database.session() as session:
        version = session.scalars(select(ArticleVersion)).one()
        assert version.published_at == datetime(2022, 5, 9, tzinfo=timezone(timedelta(hours=9)))
        assert article_as_dict(version.article, version)["published_at"] == (
            "2022-05-08T22:00:00+07:00"
        )


def test_content_hash_ignores_scheme_and_port_of_own_images() -> None:
    article = {
        "url": "http://127.0.0.1:8001/tin-tuc/a-1.html",
        "title": "T",
        "body": "B",
        "images": [{"url": "http://127.0.0.1:8001/Uploads/a.jpg", "caption": "c"}],
    }
    moved = {
        **article,
        "url": "https://127.0.0.1:9002/tin-tuc/a-1.html",
        "images": [{"url": "https://127.0.0.1:9002/Uploads/a.jpg", "caption": "c"}],
    }
    other_file = {
        **article,
        "images": [{"url": "http://127.0.0.1:8001/Uploads/b.jpg", "caption": "c"}],
    }
    elsewhere = {**article, "images": [{"url": "http://cdn.example/Uploads/a.jpg", "caption": "c"}]}
    assert content_hash(article) == content_hash(moved)
    assert content_hash(article) != content_hash(other_file)
    assert content_hash(article) != content_hash(elsewhere)


# --- change events -------------------------------------------------------------------------


@pytest.mark.slow
def test_change_events_round_trip_and_filter(database: Database, run_id: int) -> None:
    with database.begin() as session:
        store_articles(session, [make_article()], run_id)
        article_pk = session.scalars(select(Article.id)).one()
        record_event(
            session, site="thaibinh", kind="baseline", run_id=run_id, details={"articles": 1}
        )
        record_event(
            session,
            site="thaibinh",
            kind="changed",
            run_id=run_id,
            article_pk=article_pk,
            details={"fields": ["title"], "diff": {"title": ["Cũ", "Mới"]}},
            detected_at=datetime(2025, 3, 1, 9, tzinfo=UTC_PLUS_7),
        )
        record_event(session, site="other", kind="new", run_id=run_id, details={"url": "u"})

    with database.session() as session:
        changed = list_events(session, site="thaibinh", kinds=["changed"])
        assert [event.details["diff"]["title"] for event in changed] == [["Cũ", "Mới"]]
        assert changed[0].detected_at == datetime(2025, 3, 1, 2, tzinfo=UTC)
        article = session.get(Article, changed[0].article_pk)
        assert article is not None and article.article_id == "1234"
        assert [event.kind for event in list_events(session, run_ids=[run_id])] == [
            "baseline",
            "changed",
            "new",
        ]
        assert list_events(session, run_ids=[run_id + 1]) == []
        later = datetime(2025, 3, 1, 3, tzinfo=UTC)
        assert {event.kind for event in list_events(session, since=later)} == {"baseline", "new"}


@pytest.mark.slow
def test_change_event_kind_is_checked(database: Database, run_id: int) -> None:
    with database.begin() as session, pytest.raises(ValueError, match="unknown change event"):
        record_event(session, site="thaibinh", kind="edited", run_id=run_id, details={})


@pytest.mark.slow
def test_read_only_sessions_never_hold_up_writers_and_cannot_write(
    db_url: str, database: Database, run_id: int
) -> None:
    """A report reading for minutes must not make the crawl wait, nor write by mistake."""
    reader_database = open_database(db_url, read_only=True)
    try:
        with reader_database.session() as reader:
            assert count_articles(reader) == 0  # the read transaction is open from here
            done = threading.Event()

            def write() -> None:
                with database.begin() as session:
                    store_articles(session, [make_article()], run_id)
                done.set()

            writer = threading.Thread(target=write)
            writer.start()
            # The busy timeout is 30 s: a writer held up by the reader would still be waiting.
            assert done.wait(10), "the writer waited for a reader"
            writer.join()
        with reader_database.session() as reader:
            assert count_articles(reader) == 1
            with pytest.raises(DBAPIError, match="read-?only"):
                reader.execute(text("DELETE FROM articles"))
    finally:
        reader_database.close()


def test_every_lazy_storage_name_is_the_one_its_module_declares() -> None:
    """`storage.NAME` comes from the first of storage's modules that has NAME: a table in
    storage.schema named like a function of storage.repository once shadowed the function
    (`coopspider history` crashed). Each name must resolve to the module its typed import names."""
    tree = ast.parse((Path(storage.__file__)).read_text(encoding="utf-8"))
    declared = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("storage.")
        for alias in node.names
    }
    assert set(declared) == set(storage.__all__)
    wrong = {
        name: module
        for name, module in declared.items()
        if getattr(storage, name) is not getattr(importlib.import_module(module), name)
    }
    assert wrong == {}
