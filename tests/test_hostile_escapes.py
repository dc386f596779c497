"""Hostile sites: terminal escape sequences in page text, served by a real server on 127.0.0.1.

ESC, BEL and the other C0/C1 control characters (tab and line feed aside) are never stored, and
nothing the commands print (`search`, `diff`, `history`, the alert) or write (the HTML report)
carries one, even from an archive written before normalisation dropped them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from coopspider.sample_site import build_site, serve
from storage import open_database
from storage.models import Article, ArticleVersion
from tests.conftest import scrapy_crawl
from tests.helpers import coopspider

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

# Retitle the terminal window, ring the bell, clear the screen; a C1 CSI (0x9b) colours the text.
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[H\x9b31m"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_no_control(text: str, what: str) -> None:
    found = CONTROL.findall(text)
    assert not found, f"{what} carries control characters {found!r}"


def test_control_characters_are_never_stored_nor_printed(tmp_path: Path, database_url: str) -> None:
    site = build_site(articles=6)
    hostile, older = site.latest()[0], site.latest()[1]
    hostile.title = f"Hội nghị{ESCAPES} ngoài giờ"
    hostile.paragraphs[0] = "Chuông\x07 reo,\x01 màn\x1b[2J hình xóa\x85 rồi. " + hostile.lead
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    with serve(site) as server:
        first = scrapy_crawl(server.base_url, database_url, tmp_path / "1.jsonl", "-a", "full=1")
        assert first.returncode == 0, first.log[-3000:]
        hostile_url = server.base_url.rstrip("/") + hostile.path
        older_url = server.base_url.rstrip("/") + older.path

        database = open_database(database_url)
        with database.session() as session:
            stored = session.scalars(
                select(ArticleVersion).join(Article).where(Article.article_id == hostile.article_id)
            ).one()
            # The escape sequences arrived (their printable remains are there) but no control.
            assert "]0;pwned" in stored.title and "[2J" in stored.body
            for value in (stored.title, stored.body, stored.summary or ""):
                assert_no_control(value, "stored text")
        # An archive written before the fix: control characters in stored titles and bodies.
        with database.begin() as session:
            poisoned = session.scalars(
                select(Article.id).where(
                    Article.article_id.in_([older.article_id, hostile.article_id])
                )
            ).all()
            session.execute(
                update(ArticleVersion)
                .where(ArticleVersion.article_pk.in_(poisoned))
                .values(
                    title=ArticleVersion.title + ESCAPES,
                    body=ArticleVersion.body + "\n\n" + ESCAPES,
                )
            )
        database.close()
        # An edit of one makes a change event whose "before" is the old, hostile text; the other
        # stays as it was, its latest version the hostile one.
        older.paragraphs.append("Đoạn mới được thêm vào bài.")
        second = scrapy_crawl(server.base_url, database_url, tmp_path / "2.jsonl", "-a", "full=1")
        assert second.returncode == 0, second.log[-3000:]

    outputs = {
        "search": coopspider("search", "ngoài giờ", env=env),
        "diff": coopspider("diff", env=env),
        "diff --json": coopspider("diff", "--json", env=env),
        "history": coopspider("history", older_url, env=env),
        "history new": coopspider("history", hostile_url, env=env),
        "alert": coopspider("alert", "--dry-run", env=env),
        "export": coopspider("export", env=env),
    }
    for name, done in outputs.items():
        assert done.returncode == 0, (name, done.stderr)
        assert_no_control(done.stdout, name)
    assert "]0;pwned" in outputs["search"].stdout
    assert "Bài đã sửa (1):" in outputs["diff"].stdout and "]0;pwned" in outputs["diff"].stdout
    assert "]0;pwned" in outputs["history"].stdout and "]0;pwned" in outputs["alert"].stdout

    report = coopspider("report", "--out", str(tmp_path / "report"), env=env)
    assert report.returncode == 0, report.stderr
    pages = list((tmp_path / "report").rglob("*.html"))
    assert len(pages) > 1 and any("]0;pwned" in page.read_text("utf-8") for page in pages)
    for page in pages:
        assert_no_control(page.read_text(encoding="utf-8"), str(page))
