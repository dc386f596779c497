"""Hostile sites: an edit to a very long article, crawled from a real server on 127.0.0.1 and read
back with the real `coopspider diff`, `history`, `report` and `alert --dry-run` processes.

The word diff used to be quadratic (a 30,000-word article took minutes); these commands must come
back at once and show the edit, with the diff of a large rewrite cut to its first words and
"N more words changed" said in Vietnamese. How fast is measured in bench/bench_diff.py; the
timeouts here only stop a hang.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coopspider.profiles import classify
from coopspider.sample_site import build_site, serve
from coopspider.sample_site.texts import PARAGRAPHS
from coopspider.urls import LinkKind
from tests.conftest import scrapy_crawl
from tests.helpers import coopspider

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

LONG_WORDS = 30_000
ADDED = "Số liệu được điều chỉnh lại theo báo cáo mới nhất của Liên minh."
MORE_WORDS = "từ khác đã thay đổi"


def long_paragraphs(words: int) -> list[str]:
    paragraphs: list[str] = []
    while sum(len(paragraph.split()) for paragraph in paragraphs) < words:
        number = len(paragraphs) + 1
        paragraphs.append(f"({number}) {PARAGRAPHS[number % len(PARAGRAPHS)]}")
    return paragraphs


def test_an_edit_to_a_very_long_article_is_shown_at_once_and_a_rewrite_is_capped(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=6)
    edited, rewritten = site.articles[0], site.articles[1]
    edited.paragraphs = long_paragraphs(LONG_WORDS)
    rewritten.paragraphs = long_paragraphs(LONG_WORDS)
    with serve(site) as server:
        first = scrapy_crawl(server.base_url, database_url, tmp_path / "1.jsonl", "-a", "full=1")
        assert first.returncode == 0, first.log[-3000:]
        middle = len(edited.paragraphs) // 2
        edited.paragraphs[middle] += " " + ADDED
        rewritten.paragraphs = [f"{p} Đã sửa." for p in rewritten.paragraphs]
        second = scrapy_crawl(server.base_url, database_url, tmp_path / "2.jsonl", "-a", "full=1")
        assert second.returncode == 0, second.log[-3000:]
        edited_url = server.base_url.rstrip("/") + edited.path
    assert classify(edited_url).kind is LinkKind.ARTICLE

    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    diff = coopspider("diff", env=env, timeout=120)
    assert diff.returncode == 0, diff.stderr
    assert "Bài đã sửa (2):" in diff.stdout
    assert "{+ " + ADDED + "+}" in diff.stdout
    # Every paragraph of the rewrite changed: the first changed words, then how many more.
    rewrite_more = [line for line in diff.stdout.splitlines() if MORE_WORDS in line]
    assert len(rewrite_more) == 1 and rewrite_more[0].strip().startswith("… và ")
    assert diff.stdout.count("Đã sửa.") < 400  # not all 1,600 of them

    history = coopspider("history", edited_url, env=env, timeout=120)
    assert history.returncode == 0, history.stderr
    assert "Phiên bản 2" in history.stdout and "{+ " + ADDED + "+}" in history.stdout

    report = coopspider("report", "--out", str(tmp_path / "report"), env=env, timeout=120)
    assert report.returncode == 0, report.stderr
    index = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert f"<ins> {ADDED}</ins>" in index and MORE_WORDS in index

    alert = coopspider("alert", "--dry-run", env=env, timeout=120)
    assert alert.returncode == 0, alert.stderr
    assert ADDED in alert.stdout and MORE_WORDS in alert.stdout
