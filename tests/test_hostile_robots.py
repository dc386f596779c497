"""Hostile sites: robots.txt, obeyed for every request, those made before it arrived included.

Scrapy's RobotsTxtMiddleware lets through requests that wait on a robots.txt download another
request started (the waiters share one Deferred; later ones get no parser, which means allowed).
The server's request log is the proof: no disallowed path is ever asked for, on a first crawl or
on a revisit of known articles, at 32 concurrent requests, with robots.txt slow to come.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from coopspider.profiles import classify
from coopspider.sample_site import build_site
from coopspider.urls import LinkKind
from storage import open_database
from storage.models import CrawlRun
from tests.conftest import FAST, ROOT, scrapy_crawl
from tests.faultserver import FaultServer, body, delayed

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

EAGER = ["-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32"]


def robots(*disallowed: str) -> bytes:
    return ("User-agent: *\n" + "".join(f"Disallow: {p}\n" for p in disallowed)).encode()


def last_run_stats(database_url: str) -> dict:
    database = open_database(database_url)
    with database.session() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
    database.close()
    assert run is not None and run.stats is not None
    return run.stats


def test_no_disallowed_path_is_ever_requested(tmp_path: Path, database_url: str) -> None:
    site = build_site(articles=30)
    closed = site.categories[0].slug
    with FaultServer(site) as server:
        # A first crawl: one category closed to robots.
        server.faults["/robots.txt"] = delayed(0.5, body(robots(f"/{closed}/"), "text/plain"))
        first = scrapy_crawl(server.base_url, database_url, tmp_path / "1.jsonl", *EAGER)
        first_paths = [hit.path for hit in server.hits()]

        # A revisit of every known article (full=1), the whole site closed to robots.
        server.clear()
        server.faults["/robots.txt"] = delayed(0.5, body(robots("/"), "text/plain"))
        revisit = scrapy_crawl(
            server.base_url, database_url, tmp_path / "2.jsonl", *EAGER, "-a", "full=1"
        )
        revisit_paths = [hit.path for hit in server.hits()]

    assert first.returncode == 0, first.log[-3000:]
    assert not [path for path in first_paths if path.startswith(f"/{closed}/")]
    crawled = {item["article_id"] for item in first.articles}
    assert len(crawled) >= len(site.articles) - len(site.category_articles(closed))
    assert not any(
        classify(path).category == closed and classify(path).kind is LinkKind.ARTICLE
        for path in first_paths
    )

    assert revisit.returncode == 0, revisit.log[-3000:]
    assert revisit_paths == ["/robots.txt"], revisit_paths
    stats = last_run_stats(database_url)
    # The home page was held, then refused: counted and logged. Known articles are re-checked
    # only once the home page answered with a page (issue 15, item 9), so none was even asked.
    assert stats["coopspider/robots/forbidden"] == 1
    assert revisit.log.count("Forbidden by robots.txt, not fetched: ") == 1
    assert "coopspider/articles/revisited" not in stats


def test_any_spider_of_the_project_obeys_robots_txt() -> None:
    """The guarantee comes from the project settings, not from our spider: a bare spider asking
    for 30 pages at once, robots.txt slow and closed, asks for none of them."""
    site = build_site(articles=30)
    with FaultServer(site) as server:
        server.faults["/robots.txt"] = delayed(0.5, body(robots("/"), "text/plain"))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "runspider",
                str(ROOT / "tests" / "robots_probe.py"),
                "-a",
                f"base_url={server.base_url}",
                "-a",
                f"paths={','.join(site.article_paths())}",
                *FAST,
                *EAGER,
                "-s",
                "COOPSPIDER_STORE_ENABLED=0",  # the archive is for site spiders
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        paths = [hit.path for hit in server.hits()]
    assert done.returncode == 0, done.stderr[-3000:]
    assert paths == ["/robots.txt"], paths
    assert done.stderr.count("Forbidden by robots.txt, not fetched: ") == len(site.article_paths())
