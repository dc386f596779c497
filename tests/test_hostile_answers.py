"""Hostile answers from a real server on 127.0.0.1: "304 Not Modified" nobody asked for, and
redirect loops.

What must hold: a 304 is believed only when it answers the validators the crawl sent, on a site
whose home page answered with a page; any other 304 is an error (logged, counted under
coopspider/fetch_failed/http_304), never "unchanged". A redirect back into its own chain is a
failure with a log line and a count (coopspider/fetch_failed/redirect_loop), not a silent drop.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from coopspider.sample_site import build_site
from storage import open_database
from storage.models import Article, CrawlRun
from tests.conftest import scrapy_crawl
from tests.faultserver import FaultServer, break_article, not_modified, redirect, tagged

pytestmark = pytest.mark.slow  # every test here crawls or runs processes


def last_seen(database_url: str) -> dict[str, datetime]:
    database = open_database(database_url, read_only=True)
    try:
        with database.session() as session:
            return {article.article_id: article.last_seen_at for article in session.query(Article)}
    finally:
        database.close()


def run_records(database_url: str) -> list[CrawlRun]:
    database = open_database(database_url, read_only=True)
    try:
        with database.session() as session:
            return list(session.query(CrawlRun).order_by(CrawlRun.id))
    finally:
        database.close()


def test_a_304_the_crawl_cannot_believe_is_an_error_never_unchanged(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=6)
    unasked, other_tag, honest = site.articles[:3]
    with FaultServer(site) as server:
        # The baseline: two articles carry an entity tag; the fault server sends none otherwise.
        break_article(server, other_tag, tagged('"v1"'))
        break_article(server, honest, tagged('"v1"'))
        first = scrapy_crawl(server.base_url, database_url, tmp_path / "first.jsonl")
        assert first.returncode == 0, first.log[-3000:]
        seen_first = last_seen(database_url)

        # A full crawl: `unasked` is asked without validators (none archived) and answers 304;
        # `other_tag` answers 304 naming a tag it was not asked about; `honest` a real 304.
        server.clear()
        break_article(server, unasked, not_modified())
        break_article(server, other_tag, not_modified('"v2"'))
        break_article(server, honest, not_modified('"v1"'))
        second = scrapy_crawl(
            server.base_url, database_url, tmp_path / "second.jsonl", "-a", "full=1"
        )
        seen_second = last_seen(database_url)

        # A server answering 304 to everything, its home page first: nothing else is asked.
        server.clear()
        server.faults["/"] = not_modified()
        third = scrapy_crawl(
            server.base_url, database_url, tmp_path / "third.jsonl", "-a", "full=1"
        )
        third_paths = {hit.path for hit in server.hits()}
    seen_third = last_seen(database_url)

    assert second.returncode == 0, second.log[-3000:]
    stats = run_records(database_url)[1].stats
    assert stats["coopspider/fetch_failed/http_304"] == 2
    assert stats["coopspider/articles/unchanged"] == len(site.articles) - 2
    assert (
        f"Not fetched (http_304): {server.base_url.rstrip('/')}{unasked.path}: 304 Not Modified "
        "to a request that sent no If-None-Match or If-Modified-Since"
    ) in second.log
    assert '304 Not Modified for entity tag "v2", not the one asked about' in second.log
    # The two unbelievable answers leave their articles as the first crawl saw them; the honest
    # 304 counts as a sighting.
    for article in (unasked, other_tag):
        assert seen_second[article.article_id] == seen_first[article.article_id]
    assert seen_second[honest.article_id] > seen_first[honest.article_id]

    # The home page answered 304: no article was asked, none counted unchanged, the run failed.
    assert third_paths <= {"/", "/robots.txt"}, third_paths
    third_run = run_records(database_url)[2]
    assert (third_run.status, third_run.finish_reason) == ("failed", "home_page_unread")
    assert third_run.stats["coopspider/fetch_failed/http_304"] == 1
    assert "coopspider/articles/unchanged" not in third_run.stats
    assert seen_third == seen_second
    assert "Traceback" not in second.log + third.log


def test_redirect_loops_are_logged_and_counted_not_dropped_silently(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=6)
    to_itself, there_and_back = site.articles[:2]
    detour = "/vong-lap.html"
    with FaultServer(site) as server:
        break_article(server, to_itself, redirect(lambda handler, attempt: handler.path))
        break_article(server, there_and_back, redirect(lambda handler, attempt: detour))
        server.faults[detour] = redirect(lambda handler, attempt: there_and_back.path)
        result = scrapy_crawl(server.base_url, database_url, tmp_path / "items.jsonl")
        loop_hits = [
            hit.path
            for hit in server.hits()
            if hit.path in {detour, *to_itself.paths, *there_and_back.paths}
        ]

    assert result.returncode == 0, result.log[-3000:]
    run = run_records(database_url)[0]
    assert run.status == "finished"
    assert run.stats["coopspider/fetch_failed/redirect_loop"] == 2
    assert run.stats["coopspider/fetch_failed"] == 2
    # Each page of the loops was asked for once: the crawl stopped at the first repeat.
    assert len(loop_hits) == len(set(loop_hits)) == 3, loop_hits
    base = server.base_url.rstrip("/")
    self_loop = base + next(path for path in loop_hits if path in to_itself.paths)
    back = base + next(path for path in loop_hits if path in there_and_back.paths)
    assert (
        f"Not fetched (redirect_loop): {self_loop}: redirect loop {self_loop} -> {self_loop}"
        in (result.log)
    )
    assert (
        f"Not fetched (redirect_loop): {base}{detour}: redirect loop {back} -> {base}{detour} -> "
        f"{back}"
    ) in result.log
    stored = {item["article_id"] for item in result.articles}
    assert stored == {a.article_id for a in site.articles} - {
        to_itself.article_id,
        there_and_back.article_id,
    }
