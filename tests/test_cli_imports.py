"""The quick read commands import only what reading needs: not the crawler, the extraction
libraries nor Alembic, whose imports once took most of their start-up (bench/bench_cli.py times
it; this checks what is imported, so the gain cannot silently go). Nor do they make the site
profiles unless they are asked about a site; `sites` and `config check` open no archive, so they
import neither the ORM nor the models, and the commands that read an archive query its tables
with SQLAlchemy Core (`Database.read()`), without them either.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storage import finish_run, open_database, start_run, store_articles
from tests.conftest import ROOT
from tests.helpers import clean_env

# The crawl's and extraction's libraries, Alembic (a read opens an archive already migrated) and
# PostgreSQL's driver (the archive is SQLite here). Not lxml: the argument parser checks the
# site profiles' selectors, `--help` included.
NOT_FOR_READING = {"scrapy", "twisted", "parsel", "dateparser", "w3lib", "alembic", "psycopg"}
# The templates are for the HTML report, the Atom feed and the e-mail's HTML part alone.
RENDERS_TEMPLATES = {"report", "feed", "alert --dry-run"}
# Commands that open no archive: the ORM and the models are for reading one.
NO_ARCHIVE = {"sites": ["sites"], "config check": ["config", "check"]}
FOR_AN_ARCHIVE = {"sqlalchemy.orm", "storage.models", "storage.repository"}
# Read commands that query the tables without the ORM (storage.reading, and storage.alerts for
# the outbox, whose reads the sending alert runs with its session).
READS_TABLES = {"diff", "history", "search", "export", "report", "feed", "alert --dry-run"}
ARTICLE_URL = "http://lienminhhtx.example/tin-tuc-su-kien/hoi-nghi-1234.html"
READ_COMMANDS = {
    "diff": ["diff"],
    "history": ["history", ARTICLE_URL],
    "search": ["search", "hoi nghi"],
    "export": ["export", "--format", "csv"],
    "report": ["report", "--out", "{out}"],
    "feed": ["feed", "--out", "{out}.atom"],
    "alert --dry-run": ["alert", "--dry-run"],
}
# Each command in a fresh interpreter: run it as `coopspider` would, then list the modules it
# imported and whether it made the site profiles (stdout carries only that; the command's own
# output goes to stderr).
IMPORTED_BY = """
import contextlib, json, sys
from coopspider import profiles
from coopspider.cli import main
made = []
load_profiles = profiles.load_profiles
profiles.load_profiles = lambda *args: made.append(args) or load_profiles(*args)
with contextlib.redirect_stdout(sys.stderr):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "modules": sorted(sys.modules), "profiles_made": bool(made)}))
"""


def imported_by(arguments: list[str]) -> dict[str, Any]:
    """What running `coopspider ARGUMENTS` imported: "packages" (top-level names), "modules",
    and whether it made the site profiles ("profiles_made")."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED_BY, json.dumps(arguments)],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["code"] == 0, done.stderr[-2000:]
    result["packages"] = {name.split(".")[0] for name in result["modules"]}
    return result


@pytest.fixture
def archive_url(tmp_path: Path) -> str:
    """A small archive: one crawl run holding one article."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    database = open_database(url)
    with database.begin() as session:
        run = start_run(
            session, site="thaibinh", spider="lienminh", base_url="http://lienminhhtx.example/",
            started_at=datetime(2025, 3, 1, 2, tzinfo=UTC),
        )  # fmt: skip
        article = {
            "url": ARTICLE_URL, "site": "thaibinh", "article_id": "1234",
            "category": "tin-tuc-su-kien", "title": "Hội nghị tổng kết năm 2024",
            "published_at": "2025-01-09T00:00:00+07:00", "published_raw": "09/01/2025",
            "author": "", "summary": "", "body": "Hội nghị đã thành công.", "images": [],
            "fetched_at": "2025-03-01T02:00:00+00:00",
        }  # fmt: skip
        store_articles(session, [article], run)
        finish_run(
            session, run, finished_at=datetime(2025, 3, 1, 3, tzinfo=UTC), status="finished",
            finish_reason="finished", stats={},
        )  # fmt: skip
    database.close()
    return url


@pytest.mark.slow
@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_read_command_imports_neither_the_crawler_nor_alembic(
    command: str, archive_url: str, tmp_path: Path
) -> None:
    arguments = [part.format(out=tmp_path / "report") for part in READ_COMMANDS[command]]
    result = imported_by([*arguments, "--database", archive_url])
    assert "sqlalchemy" in result["packages"]  # the command did open the archive
    assert NOT_FOR_READING & result["packages"] == set()
    assert ("jinja2" in result["packages"]) == (command in RENDERS_TEMPLATES)
    orm = FOR_AN_ARCHIVE & set(result["modules"])
    assert (orm == set()) == (command in READS_TABLES), orm
    assert not result["profiles_made"]  # no --site: no profile is needed


@pytest.mark.slow
def test_a_read_command_makes_the_profiles_when_asked_about_a_site(archive_url: str) -> None:
    """The profiles are made when they are needed: --site may name one."""
    result = imported_by(["search", "hoi nghi", "--site", "thaibinh", "--database", archive_url])
    assert result["profiles_made"]


@pytest.mark.slow
@pytest.mark.parametrize("command", NO_ARCHIVE)
def test_commands_that_open_no_archive_import_neither_the_orm_nor_the_models(
    command: str, archive_url: str
) -> None:
    result = imported_by([*NO_ARCHIVE[command], "--database", archive_url])
    assert FOR_AN_ARCHIVE & set(result["modules"]) == set()
    assert NOT_FOR_READING & result["packages"] == set()
    assert result["profiles_made"]  # both show the sites
