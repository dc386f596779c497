"""Network faults injected by a real server on 127.0.0.1 while the real spider crawls it.

What must hold: failing pages are retried with a growing pause; a page that still fails is logged
and counted, never stored half (a cut-off body is not an article); what the archive held of it
stays as it was, and the next crawl fetches it; the spider never leaves the configured host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coopspider.sample_site import build_site
from storage import open_database
from storage.models import Article, ArticleVersion, CrawlRun
from tests.conftest import CrawlResult, scrapy_crawl
from tests.faultserver import (
    Fault,
    FaultServer,
    break_article,
    inject,
    redirect,
    reset,
    stall,
    status,
    truncate,
)

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

BACKOFF = 0.4
FAULTY = ["-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=2", "-s", f"RETRY_BACKOFF_BASE={BACKOFF}"]


def crawl(server: FaultServer, database_url: str, feed: Path) -> CrawlResult:
    # Full crawls: every article is asked for again each time, not only the recent ones.
    return scrapy_crawl(server.base_url, database_url, feed, *FAULTY, "-a", "full=1")


def archive(database_url: str) -> dict[str, Any]:
    """Every article as stored: id -> (versions, last run, last seen, removed at), and the runs."""
    database = open_database(database_url)
    try:
        with database.session() as session:
            articles = {
                article.article_id: (
                    [(v.version, v.content_hash, v.body) for v in article.versions],
                    article.last_run_id,
                    article.last_seen_at,
                    article.removed_at,
                )
                for article in session.query(Article)
            }
            runs = [
                (run.id, run.status, run.stats or {})
                for run in session.query(CrawlRun).order_by(CrawlRun.id)
            ]
            versions = session.query(ArticleVersion).count()
        return {"articles": articles, "runs": runs, "versions": versions}
    finally:
        database.close()


def test_failed_pages_are_retried_kept_unchanged_and_fetched_next_run(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    flaky, down, slow, dropped, cut, looping, moved = site.articles[:7]
    failing = [down, slow, dropped, cut, looping, moved]
    with FaultServer(site) as server:
        first = crawl(server, database_url, tmp_path / "first.jsonl")
        assert first.returncode == 0, first.log[-3000:]
        before = archive(database_url)
        assert len(before["articles"]) == len(site.articles)

        server.clear()
        break_article(server, flaky, status(503, times=2))
        break_article(server, down, status(500))
        break_article(server, slow, stall(3))
        break_article(server, dropped, reset())
        break_article(server, cut, truncate(0.6))
        break_article(server, looping, redirect(lambda h, n: f"{looping.path}?hop={n}"))
        break_article(
            server, moved, redirect(lambda h, n: f"http://localhost:{h.owner.port}{moved.path}")
        )
        server.faults["/"] = inject(
            '<a href="http://localhost:{port}/tin-tuc-su-kien/tin-ngoai-99999.html">ngoài</a>'
            '<a href="https://www.example.org/tin-tuc-su-kien/tin-ngoai-99998.html">ngoài</a>'
        )
        faulty = crawl(server, database_url, tmp_path / "faulty.jsonl")
        hits = server.hits()
        flaky_hits = server.hits(flaky.path)
        down_hits = server.hits(down.path)

        server.clear()
        last = crawl(server, database_url, tmp_path / "last.jsonl")

    # The faulty crawl finished; it yielded the page that recovered and none of the failing ones.
    assert faulty.returncode == 0, faulty.log[-3000:]
    yielded = {item["article_id"] for item in faulty.articles}
    assert flaky.article_id in yielded
    assert yielded.isdisjoint(a.article_id for a in failing)
    assert len(yielded) == len(site.articles) - len(failing)

    # Retries: 1 + RETRY_TIMES requests, each retry after a longer pause than the one before.
    assert len(flaky_hits) == 3 and len(down_hits) == 3
    gaps = [later.at - earlier.at for earlier, later in zip(down_hits, down_hits[1:], strict=False)]
    assert gaps[0] >= BACKOFF * 0.9 and gaps[1] >= 2 * BACKOFF * 0.9, gaps

    # Never off the configured host: neither the redirect nor the links to other hosts.
    assert all(hit.host.startswith("127.0.0.1:") for hit in hits), {h.host for h in hits}
    assert not any("9999" in hit.path for hit in hits)

    # Each failure is a log line with its URL and a stat in the run record.
    stats = archive(database_url)["runs"][1][2]
    for reason, article in [
        ("http_500", down),
        ("timeout", slow),
        ("connection", dropped),
        ("data_loss", cut),
        ("ignored", looping),
        ("offsite_redirect", moved),
    ]:
        assert stats.get(f"coopspider/fetch_failed/{reason}", 0) >= 1, (reason, stats)
        assert f"Not fetched ({reason}): " in faulty.log
        assert article.article_id in faulty.log
    assert stats["coopspider/fetch_failed"] == len(failing)
    assert stats.get("offsite/filtered", 0) >= 1

    # The archive after the faulty crawl: failed articles exactly as before (no cut-off body,
    # not marked removed, last seen by the first crawl), the others seen again, nothing added.
    after = archive(database_url)
    first_run, faulty_run, last_run = (run[0] for run in after["runs"])
    assert [run[1] for run in after["runs"]] == ["finished"] * 3
    for article in failing:
        versions, _, _, removed_at = before["articles"][article.article_id]
        assert removed_at is None
        assert after["articles"][article.article_id][0] == versions
    assert after["versions"] == len(site.articles)

    # ... and the next crawl fetched every one of them again.
    assert last.returncode == 0, last.log[-3000:]
    assert {item["article_id"] for item in last.articles} == {a.article_id for a in site.articles}
    assert {state[1] for state in after["articles"].values()} == {last_run}
    assert first_run < faulty_run < last_run


@pytest.mark.parametrize(
    ("fault", "stat"),
    [
        (status(404), "robotstxt/response_status_count/404"),
        (status(500), "robotstxt/response_status_count/500"),
        (stall(3), "robotstxt/exception_count/<class 'scrapy.exceptions.DownloadTimeoutError'>"),
    ],
    ids=["missing", "server-error", "timeout"],
)
def test_robots_txt_missing_or_failing_does_not_stop_the_crawl(
    fault: Fault, stat: str, tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=6)
    with FaultServer(site) as server:
        server.faults["/robots.txt"] = fault
        result = crawl(server, database_url, tmp_path / "items.jsonl")
        robots_requests = len(server.hits("/robots.txt"))
    assert result.returncode == 0, result.log[-3000:]
    assert len(result.articles) == len(site.articles)
    assert robots_requests >= 1
    stats = archive(database_url)["runs"][0][2]
    assert stats.get(stat, 0) >= 1, sorted(k for k in stats if k.startswith("robotstxt"))
