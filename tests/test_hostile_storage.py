"""Hostile sites: text and names longer than a database likes, crawled from a real server on
127.0.0.1 into SQLite and (COOPSPIDER_TEST_DATABASE=postgresql) PostgreSQL.

One behaviour on both: an article of any length is archived whole, and the search index takes
what fits (a PostgreSQL tsvector holds 1 MB); a 150-digit id and a 250-character category are
stored; an id longer than MAX_ARTICLE_ID_CHARS is not crawled, on either database.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import string
from pathlib import Path

import pytest
from sqlalchemy import select

from coopspider.items import MAX_ARTICLE_ID_CHARS
from coopspider.sample_site import build_site, serve
from storage import open_database
from storage.models import Article, ArticleVersion, CrawlRun
from tests.conftest import scrapy_crawl, selected_test_database
from tests.helpers import coopspider

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

# 120,000 distinct words of 10 letters: 1.2 MB of lexemes, over the 1 MB a PostgreSQL tsvector
# holds.
DISTINCT_WORDS = 120_000


def distinct_paragraphs(words: int) -> list[str]:
    letters = ("".join(chars) for chars in itertools.product(string.ascii_lowercase, repeat=4))
    vocabulary = [f"{word}hoptac" for word in itertools.islice(letters, words)]
    return [" ".join(vocabulary[start : start + 1000]) for start in range(0, words, 1000)]


def test_long_documents_ids_and_categories_are_stored_alike(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=6)
    long_category = "chuyen-muc-" + "rat-dai-" * 30  # 251 characters
    site.category_specs.append((long_category[:250], "9999", "Chuyên mục rất dài"))
    document, long_id, category_article = site.latest()[:3]
    document.paragraphs = distinct_paragraphs(DISTINCT_WORDS)
    long_id.article_id = "7" * 150
    category_article.categories = [long_category[:250]]
    too_long = dataclasses.replace(
        site.latest()[3], article_id="8" * (MAX_ARTICLE_ID_CHARS + 1), slug="qua-dai"
    )
    site.articles.append(too_long)

    with serve(site) as server:
        crawls = [
            scrapy_crawl(server.base_url, database_url, tmp_path / f"{n}.jsonl", "-a", "full=1")
            for n in (1, 2)
        ]
    for crawled in crawls:
        assert crawled.returncode == 0, crawled.log[-3000:]
        assert "Not stored" not in crawled.log and "Traceback" not in crawled.log
        assert "id longer than 500 characters, not crawled" in crawled.log

    database = open_database(database_url)
    with database.session() as session:
        stored = {a.article_id: a for a in session.scalars(select(Article))}
        assert set(stored) == {a.article_id for a in site.articles} - {too_long.article_id}
        assert stored[category_article.article_id].category == long_category[:250]
        (version,) = session.scalars(
            select(ArticleVersion).where(
                ArticleVersion.article_pk == stored[document.article_id].id
            )
        )
        assert version.body == "\n\n".join(document.paragraphs)  # whole, once
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [run.stats["coopspider/articles/id_too_long"] for run in runs] == [1, 1]
        assert runs[1].stats.get("coopspider/articles/new", 0) == 0
    database.close()

    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    first_words = coopspider("search", "aaaahoptac aaabhoptac", env=env)
    assert first_words.returncode == 0, first_words.stderr
    assert document.title in first_words.stdout
    cut_short = "too long for PostgreSQL's search index" in crawls[0].log
    assert cut_short == (selected_test_database() == "postgresql")
