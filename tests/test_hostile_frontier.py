"""Hostile sites: an unbounded frontier, served from 127.0.0.1 to the real spider.

A home page linking 50,000 articles queued them all ahead of the listings (313 MB, no listing
read in a minute); listings that each link new categories made 1,620 categories in 40 s. Now
listings go first, a crawl reads the listings of COOPSPIDER_MAX_CATEGORIES categories at most and
takes COOPSPIDER_MAX_ARTICLE_LINKS_PER_PAGE new article links from one page at most, each cap
counted and logged when hit, and the crawl process stays under 300 MB (its peak RSS as the kernel
counts it, read with wait4).
"""

from __future__ import annotations

import os
import re
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
from tests.conftest import ROOT, CrawlResult, crawl_command, read_feed
from tests.faultserver import FaultHandler, FaultServer, rewrite

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

ARTICLE_LINKS = 50_000
MAX_RSS = 300 * 1024 * 1024
TRAP = re.compile(r"/bay(\d+)-\d+\.html")
EAGER = ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]


def trap_category(number: int) -> str:
    return f"/bay{number}-{8_000_000 + number}.html"


def new_categories(handler: FaultHandler, _attempt: int) -> bool:
    """A listing page of trap category N that links 20 categories never seen before."""
    match = TRAP.fullmatch(handler.path.split("?")[0])
    if match is None:
        return False
    number = int(match[1])
    links = "".join(
        f'<li><a href="{trap_category(20 * number + k)}">Mục {20 * number + k}</a></li>'
        for k in range(1, 21)
    )
    page = f"<html><head><title>Mục {number}</title></head><body><ul>{links}</ul></body></html>"
    handler.send(200, "text/html; charset=utf-8", page.encode())
    return True


# Linux counts a process's peak memory from its fork: a child forked by this (large) pytest process
# starts with pytest's peak. So a small Python starts the crawl and reports the crawl's own peak.
PEAK_RSS_OF_CHILD = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)
"""


def crawl_with_peak_rss(
    base_url: str, database_url: str, tmp_path: Path
) -> tuple[CrawlResult, int]:
    """`scrapy crawl lienminh` in a child process, and the peak resident memory (bytes) the
    kernel counted for that process itself (wait4's ru_maxrss, measured by a small parent)."""
    feed, log = tmp_path / "items.jsonl", tmp_path / "crawl.log"
    # Stopped after two minutes if the frontier never ends (it ends in seconds).
    crawl = crawl_command(base_url, database_url, feed, *EAGER, "-s", "CLOSESPIDER_TIMEOUT=120")
    with log.open("w") as stderr:
        measured = subprocess.run(
            [sys.executable, "-c", PEAK_RSS_OF_CHILD, *crawl],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            check=True,
        )
    returncode, peak_rss = (int(field) for field in measured.stdout.split())
    return CrawlResult(returncode, read_feed(feed), log.read_text(encoding="utf-8")), peak_rss


def test_listings_go_first_and_the_frontier_is_capped(tmp_path: Path, database_url: str) -> None:
    site = build_site(articles=24)
    bogus = [
        f'<a href="/tin-tuc-su-kien/bai-{n}-{9_000_000 + n}.html">Bài {n}</a>'.encode()
        for n in range(ARTICLE_LINKS)
    ]
    # Twenty article links above the menu (more than go out at once), the rest below the page:
    # in Scrapy's last-in-first-out queue the menu's listings waited under 49,980 articles.
    head, tail = b"".join(bogus[:20]), b"".join(bogus[20:])
    tail += f'<a href="{trap_category(0)}">Mục</a>'.encode()

    def hostile_home(page: bytes) -> bytes:
        page = re.sub(rb"(<body[^>]*>)", lambda body: body[1] + head, page, count=1)
        return page.replace(b"</body>", tail + b"</body>", 1)

    with FaultServer(site) as server:
        server.faults["/"] = rewrite(hostile_home)
        server.fallback = new_categories
        crawled, peak_rss = crawl_with_peak_rss(server.base_url, database_url, tmp_path)
        paths = [hit.path for hit in server.hits()]
    assert crawled.returncode == 0, crawled.log[-3000:]

    # Listings first: every listing page of the site was asked for before the 60th of the 500
    # or so articles (the first sixteen went out before the menu's links were read).
    articles = [n for n, path in enumerate(paths) if classify(path).kind is LinkKind.ARTICLE]
    assert set(site.listing_paths()) <= set(paths[: articles[60]])

    database = open_database(database_url)
    with database.session() as session:
        (run,) = session.scalars(select(CrawlRun)).all()
    database.close()
    stats = run.stats or {}

    # Article links: 500 taken from the home page (its own articles first), the rest counted
    # and logged once.
    bogus_asked = [p for p in paths if p.startswith("/tin-tuc-su-kien/bai-")]
    assert 450 < len(bogus_asked) < 500
    assert stats["coopspider/links/article_links_capped"] == ARTICLE_LINKS - len(bogus_asked)
    assert crawled.log.count("COOPSPIDER_MAX_ARTICLE_LINKS_PER_PAGE (500)") == 1
    # Categories: 200 in all, the site's among them; then no new one.
    listings = [classify(path) for path in paths]
    read = {page.category for page in listings if page.kind is LinkKind.LISTING}
    assert len(read) == 200 and {category.slug for category in site.categories} <= read
    assert stats["coopspider/listings/categories_capped"] > 0
    assert crawled.log.count("COOPSPIDER_MAX_CATEGORIES (200)") == 1
    # The site itself was crawled whole, and the crawl process stayed small.
    assert {item["article_id"] for item in crawled.articles} == {
        article.article_id for article in site.articles
    }
    print(f"peak RSS of the crawl process: {peak_rss / 2**20:.0f} MiB")
    assert peak_rss < MAX_RSS, peak_rss
