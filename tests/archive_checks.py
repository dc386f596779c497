"""The archive as a crash or a bad page left it: its invariants checked with SQL, its rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage import open_database
from storage.models import ArticleVersion, CrawlRun
from storage.warc import read_records

_BROKEN_ROWS = {
    "duplicate articles": "SELECT site, article_id FROM articles"
    " GROUP BY site, article_id HAVING count(*) > 1",
    "articles without a version": "SELECT a.id FROM articles a"
    " LEFT JOIN article_versions v ON v.article_pk = a.id WHERE v.id IS NULL",
    "gaps in version numbers": "SELECT article_pk FROM article_versions GROUP BY article_pk"
    " HAVING min(version) <> 1 OR max(version) <> count(*)",
    "empty versions": "SELECT id FROM article_versions"
    " WHERE title = '' OR body = '' OR content_hash = ''",
    "versions of unknown runs": "SELECT v.id FROM article_versions v"
    " LEFT JOIN crawl_runs r ON r.id = v.crawl_run_id WHERE r.id IS NULL",
    "counters of unknown runs": "SELECT c.id FROM counter_observations c"
    " LEFT JOIN crawl_runs r ON r.id = c.crawl_run_id WHERE r.id IS NULL",
}


def assert_consistent(database_url: str) -> None:
    """The archive's invariants, checked with SQL on the database as it is on disk."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            for problem, query in _BROKEN_ROWS.items():
                assert connection.execute(text(query)).all() == [], problem
            if engine.dialect.name == "sqlite":
                assert connection.scalar(text("PRAGMA integrity_check")) == "ok"
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    finally:
        engine.dispose()


def count_rows(database_url: str, table: str) -> int:
    """Rows in `table` as a plain reader sees them; 0 before the table exists."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def runs(database_url: str) -> list[tuple[str, str | None]]:
    """(status, finish reason) of every crawl run, oldest first."""
    database = open_database(database_url)
    try:
        with database.session() as session:
            return [
                (run.status, run.finish_reason)
                for run in session.query(CrawlRun).order_by(CrawlRun.id)
            ]
    finally:
        database.close()


def run_rows(workdir: Path) -> list[CrawlRun]:
    """Every crawl run of the archive a `coopspider` command keeps in `workdir`, oldest first."""
    database = open_database(f"sqlite:///{workdir / 'data' / 'archive.sqlite3'}")
    try:
        with database.session() as session:
            return list(session.query(CrawlRun).order_by(CrawlRun.id))
    finally:
        database.close()


def assert_warc_pointers_whole(database_url: str, warc_dir: Path) -> None:
    """Every version points at a whole record of its own page: its target, and digests that
    warcio checks (a record torn by a crash would fail them or not read at all)."""
    import io

    from warcio.archiveiterator import ArchiveIterator

    database = open_database(database_url)
    try:
        with database.session() as session:
            for version in session.query(ArticleVersion):
                record = version.warc_record
                assert record is not None, f"version {version.id} has no WARC record"
                data = read_records(warc_dir, record)
                kinds = []
                for warc in ArchiveIterator(io.BytesIO(data), check_digests=True):
                    warc.content_stream().read()
                    assert warc.digest_checker.passed is True, warc.digest_checker.problems
                    kinds.append(warc.rec_type)
                assert kinds == ["response", "request"]
                assert record.target_uri == version.article.url
    finally:
        database.close()
