"""The quick read commands import only what reading needs: not the crawler, the extraction
libraries nor Alembic, whose imports once took most of their start-up (bench/bench_cli.py times
it; this checks what is imported, so the gain cannot silently go)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import finish_run, open_database, start_run, store_articles
from tests.conftest import ROOT

# The crawl's and extraction's libraries, and Alembic (a read opens an archive already migrated).
# Not lxml: the argument parser checks the site profiles' selectors, `--help` included.
NOT_FOR_READING = {"scrapy", "twisted", "parsel", "dateparser", "w3lib", "alembic"}
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
# Each command in a fresh interpreter: run it as `coopspider` would, then list the top-level
# packages it imported (stdout carries only that list; the command's own output goes to stderr).
IMPORTED_BY = """
import contextlib, json, sys
from coopspider.cli import main
with contextlib.redirect_stdout(sys.stderr):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "packages": sorted({name.split(".")[0] for name in sys.modules})}))
"""


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
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED_BY, json.dumps([*arguments, "--database", archive_url])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["code"] == 0, done.stderr[-2000:]
    assert "sqlalchemy" in result["packages"]  # the command did open the archive
    assert NOT_FOR_READING & set(result["packages"]) == set()
