"""Hostile sites: a site profile's URL pattern that backtracks catastrophically.

`([a-z]+-?)+` passed `config check`, and a 34-character link froze the crawl (the reactor never
got back control, so not even CLOSESPIDER_TIMEOUT fired). Such nested repetition is refused where
profiles are loaded (`config check`, a crawl); a slow form the check does not know, met on a
real link served from 127.0.0.1, gives up after MATCH_TIMEOUT and the crawl goes on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coopspider.profiles import load_profiles
from coopspider.sample_site import build_site
from coopspider.urls import MATCH_TIMEOUT, catastrophic_repetition
from tests.conftest import scrapy_crawl
from tests.faultserver import FaultServer, inject
from tests.helpers import coopspider

NESTED = r"/(?P<category>[a-z-]+)/(?P<id>([a-z]+-?)+\d+)\.html"
# Alternatives that overlap under a repetition: exponential too, but not nested repetition.
OVERLAPPING = r"/(?P<category>[a-z-]+)/(?P<slug>(?:a|aa)+)-(?P<id>\d+)\.html?"


def test_nested_repetition_is_told_apart_from_separated_repetition() -> None:
    for pattern in (NESTED, r"/(a+)+$", r"/(?:x|[^x]+)+y", r"/(.*/)*x"):
        assert catastrophic_repetition(pattern), pattern
    for pattern in (r"/(?:[^/]+/)*(?P<c>[^/]+)", r"(/\d+)+", r"(\d+,)*x", OVERLAPPING):
        assert not catastrophic_repetition(pattern), pattern
    for profile in load_profiles().values():  # the shipped ones all pass
        grammar = profile.grammar
        for pattern in (*grammar.article, *grammar.listing, *grammar.pagination):
            assert not catastrophic_repetition(pattern.pattern), (profile.name, pattern.pattern)


@pytest.mark.slow
def test_config_check_and_a_crawl_refuse_nested_repetition(tmp_path: Path) -> None:
    config = tmp_path / "coopspider.toml"
    config.write_text(
        '[sites.hostile]\nbase_url = "http://127.0.0.1:9/"\n\n'
        f"[sites.hostile.urls]\narticle = ['{NESTED}']\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPSPIDER_")}
    env["COOPSPIDER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    check = coopspider("--config", str(config), "config", "check", env=env, cwd=tmp_path)
    crawl = coopspider(
        "--config", str(config), "crawl", "--site", "hostile", env=env, cwd=tmp_path, timeout=60
    )
    for done in (check, crawl):
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "urls.article[0]" in done.stderr and "repeats a group" in done.stderr


@pytest.mark.slow
def test_a_pattern_that_runs_too_long_gives_up_and_the_crawl_goes_on(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=6)
    shipped = [p.pattern for p in load_profiles()["thaibinh"].grammar.article]
    profiles = json.dumps({"thaibinh": {"urls": {"article": [*shipped, OVERLAPPING]}}})
    hostile = f"/tin-tuc-su-kien/{'a' * 40}!-1.html"
    with FaultServer(site) as server:
        server.faults["/"] = inject(f'<a href="{hostile}">Tin</a><a href="{hostile}?b">Tin</a>')
        crawled = scrapy_crawl(
            server.base_url, database_url, tmp_path / "items.jsonl",
            "-a", "site=thaibinh", "-s", f"SITE_PROFILES={profiles}",
        )  # fmt: skip
    assert crawled.returncode == 0, crawled.log[-3000:]
    assert {item["article_id"] for item in crawled.articles} == {
        article.article_id for article in site.articles
    }
    # Given up once, then no longer tried: the second hostile link costs nothing.
    assert crawled.log.count(f"gave up after {MATCH_TIMEOUT:.2f} s") == 1
