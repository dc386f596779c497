"""End to end per site profile: the real spider crawls a sample site in the profile's platform's
URL grammar, served on 127.0.0.1, with `-a site=NAME`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from coopspider.profiles import builtin_profiles
from coopspider.sample_site import build_site, serve
from coopspider.sample_site.grammars import GRAMMARS
from tests.conftest import scrapy_crawl
from tests.helpers import expected_item


def test_every_shipped_profile_has_a_sample_grammar() -> None:
    assert set(builtin_profiles()) <= set(GRAMMARS)


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
@pytest.mark.slow
def test_crawl_of_each_profiles_sample_site(name: str, tmp_path: Path, database_url: str) -> None:
    site = build_site(grammar=name)
    grammar = GRAMMARS[name]
    with serve(site) as server:
        feed = tmp_path / "items.jsonl"
        result = scrapy_crawl(server.base_url, database_url, feed, "-a", f"site={name}")
        fetched = Counter(unquote(path) for path in server.requests)
    assert result.returncode == 0, result.log[-3000:]

    by_key = {article.key: article for article in site.articles}
    assert sorted(item["article_id"] for item in result.articles) == sorted(by_key)
    category_ids = dict((slug, cid) for slug, cid, _ in site.category_specs)
    for item in result.articles:
        article = by_key[item["article_id"]]
        want = expected_item(article, server.base_url)
        assert {key: item[key] for key in want} == want, item["url"]
        assert item["site"] == name
        in_url = {
            "slug": set(article.categories),
            "id": {category_ids[slug] for slug in article.categories},
            None: {None},
        }
        assert item["category"] in in_url[grammar.category_in_url]

    # Every listing page was reached through the grammar's pagination; each article fetched once.
    listing_paths = {c.page_path(n) for c in site.categories for n in range(1, c.pages + 1)}
    assert listing_paths <= set(fetched)
    routes = site.snapshot().routes
    article_fetches = Counter(
        routes[path][1].article_id
        for path in fetched.elements()
        if path in routes and not isinstance(routes[path][1], int)
    )
    assert set(article_fetches) == {a.article_id for a in site.articles}
    assert set(article_fetches.values()) == {1}

    assert [(c["site"], c["total"], c["online"]) for c in result.counters] == [
        (name, site.counter_total, site.counter_online)
    ]


@pytest.mark.slow
def test_configured_site_profiles_reach_the_spider(tmp_path: Path, database_url: str) -> None:
    """The SITE_PROFILES setting (the config file's [sites.NAME] tables) changes the crawl."""
    site = build_site()
    skipped = "chinh-sach-ho-tro"
    overrides = json.dumps({"thaibinh": {"skip_categories": [skipped], "date_order": "DMY"}})
    with serve(site) as server:
        feed = tmp_path / "items.jsonl"
        result = scrapy_crawl(
            server.base_url, database_url, feed, "-a", "site=thaibinh", "-s",
            f"SITE_PROFILES={overrides}",
        )  # fmt: skip
        fetched = {unquote(path) for path in server.requests}
    assert result.returncode == 0, result.log[-3000:]
    wanted = {a.article_id for a in site.articles if set(a.categories) - {skipped}}
    assert wanted and wanted != {a.article_id for a in site.articles}
    assert {item["article_id"] for item in result.articles} == wanted
    assert not any(path.startswith(f"/{skipped}") for path in fetched)
