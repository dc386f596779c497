"""Hostile sites: listings that link an article with another category's URL, served from
127.0.0.1 and crawled again and again by the real spider.

An article filed under two categories is archived with one of them, the one in the URL of the
link first followed; a CMS often links it from both listings with one canonical URL. The listing
of the archived category then showed it under the other category's URL, which did not count as
shown, and when that other listing was not read far enough the article was reported removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from coopspider.sample_site import SampleArticle, SampleSite, build_site
from storage import open_database
from storage.models import Article, ChangeEvent
from tests.conftest import scrapy_crawl
from tests.faultserver import FaultServer, rewrite

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

EAGER = ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]


def file_old_articles_twice(site: SampleSite) -> list[SampleArticle]:
    """Four articles from deep in the first category's listing are filed under the second one
    too, which holds two articles of its own besides: the home page's box of the second
    category links them first, with its own URLs."""
    first, second = (category.slug for category in site.categories[:2])
    deep = site.category_articles(first)[3 * site.per_page : 3 * site.per_page + 4]
    own = [a for a in site.category_articles(second) if a.categories == [second]][:2]
    for article in site.articles:
        if second in article.categories and article not in own:
            article.categories = [slug for slug in article.categories if slug != second] or [first]
    for article in deep:
        article.categories = [first, second]
    return deep


def canonical_links_in_listings(server: FaultServer, site: SampleSite) -> None:
    """Every listing page links each article with its first category's URL, as a CMS with one
    canonical URL per article does; the home page's category boxes keep their own URLs."""
    for category in site.categories:
        swaps = [
            (article.path_in(category.slug).encode(), article.path.encode())
            for article in site.category_articles(category.slug)
            if article.categories[0] != category.slug
        ]

        def canonical(page: bytes, swaps: list[tuple[bytes, bytes]] = swaps) -> bytes:
            for own, first in swaps:
                page = page.replace(own, first)
            return page

        for page in range(1, category.pages + 1):
            server.faults[category.page_path(page)] = rewrite(canonical)


def events(database_url: str, kind: str) -> list[str]:
    """Ids of the articles the change events of this kind name, oldest event first."""
    database = open_database(database_url)
    with database.session() as session:
        found = session.scalars(
            select(Article.article_id)
            .join(ChangeEvent, ChangeEvent.article_pk == Article.id)
            .where(ChangeEvent.kind == kind)
            .order_by(ChangeEvent.id)
        ).all()
    database.close()
    return list(found)


def test_an_article_under_two_categories_is_never_reported_removed(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=40)
    twice = file_old_articles_twice(site)
    with FaultServer(site) as server:
        canonical_links_in_listings(server, site)
        for number in range(6):
            full = ["-a", "full=1"] if number == 3 else []
            crawled = scrapy_crawl(
                server.base_url, database_url, tmp_path / f"{number}.jsonl", *EAGER, *full
            )
            assert crawled.returncode == 0, crawled.log[-3000:]
            assert events(database_url, "removed") == [], f"crawl {number + 1}"

        database = open_database(database_url)
        with database.session() as session:
            archived_under = {
                row.article_id: row.category
                for row in session.execute(select(Article.article_id, Article.category))
            }
        database.close()
        # The case that went wrong is there: archived under the category whose listing links
        # them with the other category's URL.
        second = site.categories[1].slug
        assert second in {archived_under[article.article_id] for article in twice}

        # A real removal is still seen: the newest article leaves the site.
        gone = site.latest()[0]
        site.articles.remove(gone)
        crawled = scrapy_crawl(server.base_url, database_url, tmp_path / "last.jsonl", *EAGER)
        assert crawled.returncode == 0, crawled.log[-3000:]
    assert events(database_url, "removed") == [gone.article_id]
