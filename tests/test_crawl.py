"""End to end: the real spider crawls the sample site on 127.0.0.1 into a real SQLite file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from coopspider.profiles import classify
from coopspider.sample_site import build_site, serve
from storage import count_articles, latest_versions, open_database
from storage.models import ArticleVersion, CounterObservation, CrawlRun
from tests.conftest import scrapy_crawl
from tests.helpers import expected_item

pytestmark = pytest.mark.slow  # every test here crawls or runs processes


@pytest.mark.parametrize("markup", ["portal", "classic"])
def test_crawl_archives_every_article_once_with_its_fields(
    markup: str, tmp_path: Path, database_url: str
) -> None:
    site = build_site(markup=markup)
    with serve(site) as server:
        result = scrapy_crawl(
            server.base_url, database_url, tmp_path / "items.jsonl", "-a", "site=sample"
        )
        fetched = list(server.requests)
    assert result.returncode == 0, result.log[-3000:]

    by_id = {a.article_id: a for a in site.articles}
    ids = [item["article_id"] for item in result.articles]
    assert sorted(ids) == sorted(by_id), "each article exactly once per crawl"
    for item in result.articles:
        want = expected_item(by_id[item["article_id"]], server.base_url)
        got = {key: item[key] for key in want}
        assert got == want, item["url"]
        assert item["site"] == "sample" and item["published_raw"]
        assert item["url"].startswith(server.base_url)
        assert item["category"] in by_id[item["article_id"]].categories

    # An article reachable under two category paths and two schemes is downloaded once.
    article_fetches = Counter(
        classify(path).article_id for path in fetched if classify(path).article_id
    )
    assert set(article_fetches.values()) == {1}

    assert len(result.counters) == 1
    counter = result.counters[0]
    assert (counter["total"], counter["online"]) == (site.counter_total, site.counter_online)

    database = open_database(database_url)
    with database.session() as session:
        assert count_articles(session, site="sample") == len(site.articles)
        assert session.query(ArticleVersion).count() == len(site.articles)
        run = session.query(CrawlRun).one()
        assert run.status == "finished" and run.stats["coopspider/articles/new"] == len(ids)
        observation = session.query(CounterObservation).one()
        assert observation.total == site.counter_total


@pytest.mark.parametrize("conditional", [True, False], ids=["304", "full-body"])
def test_second_full_crawl_of_unchanged_site_adds_no_version(
    conditional: bool, tmp_path: Path, database_url: str
) -> None:
    # A full crawl fetches every article again: answered 304, or re-sent whole by a server that
    # ignores conditional requests; either way nothing is a new version.
    with serve(build_site()) as server:
        server.conditional = conditional
        first = scrapy_crawl(server.base_url, database_url, tmp_path / "one.jsonl")
        second = scrapy_crawl(server.base_url, database_url, tmp_path / "two.jsonl", "-a", "full=1")
    assert first.returncode == second.returncode == 0, second.log[-3000:]
    database = open_database(database_url)
    with database.session() as session:
        versions = [v.version for _, v in latest_versions(session)]
        runs = session.query(CrawlRun).order_by(CrawlRun.id).all()
    assert versions and set(versions) == {1}
    assert runs[1].stats.get("coopspider/articles/unchanged") == len(versions)
    assert "coopspider/articles/new" not in runs[1].stats


def test_page_that_does_not_parse_is_counted_and_not_stored(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    broken = site.articles[0]
    broken.paragraphs = []
    broken.title = ""
    with serve(site) as server:
        result = scrapy_crawl(server.base_url, database_url, tmp_path / "items.jsonl")
    assert result.returncode == 0
    assert broken.article_id not in {item["article_id"] for item in result.articles}
    assert "coopspider/pages/unparsed" in result.log
    database = open_database(database_url)
    with database.session() as session:
        assert count_articles(session) == len(site.articles) - 1
