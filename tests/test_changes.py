"""End to end: crawl a local site, change it, crawl again, and read `coopspider diff` and
`coopspider history` as a user would; incremental crawls counted on the server's request log."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from coopspider.profiles import classify
from coopspider.sample_site import SampleArticle, SampleServer, SampleSite, build_site, serve
from coopspider.sample_site import model as sample_model
from coopspider.urls import LinkKind
from storage import open_database
from tests.conftest import scrapy_crawl
from tests.helpers import VIETNAM, coopspider, fresh_article


def recent_site(articles: int = 24) -> SampleSite:
    """The sample site with its six newest articles published in the last week."""
    site = build_site(articles=articles)
    today = dt.datetime.now(VIETNAM).date()
    for days_ago, article in enumerate(site.latest()[:6], start=1):
        article.date = today - dt.timedelta(days=days_ago)
    return site


def crawl(server: SampleServer, database_url: str, tmp_path: Path, *extra: str) -> list[str]:
    """Crawl the server as site "sample"; the paths it requested."""
    server.requests.clear()
    feed = tmp_path / f"items-{len(list(tmp_path.glob('items-*')))}.jsonl"
    result = scrapy_crawl(
        server.base_url, database_url, feed, "-a", "site=sample", "-s", "RETRY_TIMES=0", *extra
    )
    assert result.returncode == 0, result.log[-3000:]
    return list(server.requests)


def diff(database_url: str) -> dict[str, Any]:
    done = coopspider("--database", database_url, "diff", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def url_of(server: SampleServer, article: SampleArticle) -> str:
    return server.base_url.rstrip("/") + article.path


def listing_pages_past_the_first(paths: list[str]) -> list[str]:
    return [p for p in paths if classify(p).kind is LinkKind.LISTING and classify(p).page > 1]


@pytest.mark.slow
def test_first_crawl_is_a_baseline_not_a_flood_of_new_articles(
    tmp_path: Path, database_url: str
) -> None:
    site = recent_site()
    with serve(site) as server:
        crawl(server, database_url, tmp_path)
    report = diff(database_url)
    assert report["baseline"] == [{"site": "sample", "articles": len(site.articles)}]
    assert report["new"] == report["changed"] == report["removed"] == report["errors"] == []
    (counter,) = report["counters"]
    assert counter["total"] == site.counter_total and counter["previous_total"] is None
    text = coopspider("--database", database_url, "diff").stdout
    assert f"Lần thu thập đầu tiên của trang sample: đã lưu {len(site.articles)} bài" in text


@pytest.mark.slow
def test_a_crawl_of_a_site_that_is_down_is_failed_and_not_the_baseline(
    tmp_path: Path, database_url: str
) -> None:
    with serve(recent_site()) as server:
        down_url = server.base_url
    down = scrapy_crawl(
        down_url, database_url, tmp_path / "down.jsonl", "-a", "site=sample", "-s", "RETRY_TIMES=0"
    )
    assert down.returncode == 0, down.log[-3000:]  # Scrapy itself ends normally
    assert "could not be read" in down.log
    site = recent_site()
    with serve(site) as server:
        crawl(server, database_url, tmp_path)
    report = diff(database_url)
    # The crawl that found the site up is the baseline: its articles are not "new".
    assert report["baseline"] == [{"site": "sample", "articles": len(site.articles)}]
    assert report["new"] == []


@pytest.mark.slow
def test_diff_names_exactly_the_new_edited_and_removed_articles(
    tmp_path: Path, database_url: str
) -> None:
    site = recent_site()
    with serve(site) as server:
        crawl(server, database_url, tmp_path)
        edited, removed = site.latest()[1], site.latest()[3]
        old_title = edited.title
        edited.title = f"{old_title} (cập nhật)"
        edited.paragraphs[1] += " Số liệu được điều chỉnh lại."
        edited.images[0] = (edited.images[0][0], "Chú thích mới của ảnh")
        site.articles.remove(removed)
        added = [
            fresh_article(site, "9001", "Bài mới thứ nhất"),
            fresh_article(site, "9002", "Bài mới thứ hai"),
        ]
        site.articles.extend(added)
        site.counter_total += 1234
        paths = crawl(server, database_url, tmp_path)
        edited_url, removed_url = url_of(server, edited), url_of(server, removed)
        expected_new = {(url_of(server, article), article.title) for article in added}

    report = diff(database_url)
    assert {(e["url"], e["title"]) for e in report["new"]} == expected_new
    assert len(report["new"]) == len(expected_new)
    assert all(e["published_at"].endswith("+07:00") for e in report["new"])
    (changed,) = report["changed"]
    assert changed["url"] == edited_url and changed["fields"] == ["title", "body", "images"]
    assert changed["diff"]["title"] == [old_title, edited.title]
    assert "Chú thích mới của ảnh" in changed["diff"]["images"][1]
    assert [(e["url"], e["reason"]) for e in report["removed"]] == [(removed_url, "gone")]
    assert report["restored"] == report["baseline"] == report["errors"] == []
    (counter,) = report["counters"]
    assert (counter["delta"], counter["total"]) == (1234, site.counter_total)
    assert counter["anomalies"] == []
    # Incremental: the new articles sat on page 1, the walk went one page further and stopped.
    assert set(listing_pages_past_the_first(paths)) <= {"/tin-tuc-su-kien/page-2.htm"}

    text = coopspider("--database", database_url, "diff").stdout
    assert "Bài mới (2):" in text and "Bài đã sửa (1):" in text and "Bài bị gỡ (1):" in text
    assert "{+ (cập nhật)+}" in text and "Bộ đếm truy cập: " in text and "+1.234" in text

    history = coopspider("--database", database_url, "history", edited_url)
    assert history.returncode == 0, history.stderr
    assert "Phiên bản 1" in history.stdout and "Phiên bản 2" in history.stdout
    assert "{+ Số liệu được điều chỉnh lại.+}" in history.stdout
    as_json = json.loads(
        coopspider("--database", database_url, "history", "--json", edited_url).stdout
    )
    assert [v["version"] for v in as_json["versions"]] == [1, 2]
    assert as_json["versions"][1]["fields"] == ["title", "body", "images"]


@pytest.mark.slow
def test_unchanged_content_gives_an_empty_diff_whatever_else_moved(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = recent_site()
    with serve(site) as server:
        site.clock = dt.datetime(2026, 1, 1, 8, 0, tzinfo=VIETNAM)
        crawl(server, database_url, tmp_path)
        # The counter and the clock move; the site lists oldest first, which turns over the
        # ticker, the related lists and every listing page; one article is re-encoded NFD with
        # doubled spaces. None of that is an edit.
        site.counter_total += 77
        site.clock = dt.datetime(2026, 1, 2, 9, 30, tzinfo=VIETNAM)
        monkeypatch.setattr(
            sample_model, "_newest_first", lambda a: (a.date.toordinal(), int(a.article_id))
        )
        site.per_page = 5  # also invalidates the site's cached ordering
        assert site.latest()[0].date == min(article.date for article in site.articles)
        recoded = site.latest()[2]
        recoded.title = unicodedata.normalize("NFD", recoded.title).replace(" ", "  ")
        recoded.paragraphs = [unicodedata.normalize("NFD", p) + " " for p in recoded.paragraphs]
        crawl(server, database_url, tmp_path, "-a", "full=1")
    report = diff(database_url)
    assert report["new"] == report["changed"] == report["removed"] == report["restored"] == []
    assert report["errors"] == []
    assert report["counters"][0]["delta"] == 77 and report["counters"][0]["anomalies"] == []
    assert (
        "Không có bài mới, bài sửa hay bài bị gỡ."
        in coopspider("--database", database_url, "diff").stdout
    )


@pytest.mark.slow
def test_server_errors_and_a_cut_short_crawl_remove_nothing(
    tmp_path: Path, database_url: str
) -> None:
    site = recent_site()
    with serve(site) as server:
        crawl(server, database_url, tmp_path)
        failing = site.latest()[0]
        first_category = site.categories[0]
        server.statuses = {failing.path: 503, first_category.path: 500}
        crawl(server, database_url, tmp_path, "-a", "full=1")
        report = diff(database_url)
        assert report["removed"] == []
        assert any("server errors (5xx)" in error["message"] for error in report["errors"])

        # A deleted article, but a crawl stopped after three pages proves nothing.
        server.statuses = {}
        site.articles.remove(site.latest()[1])
        crawl(server, database_url, tmp_path, "-s", "CLOSESPIDER_PAGECOUNT=3")
        report = diff(database_url)
        assert report["removed"] == []
        assert any("crawl failed (closespider_pagecount)" in e["message"] for e in report["errors"])
        crawl(server, database_url, tmp_path)
    assert [entry["reason"] for entry in diff(database_url)["removed"]] == ["gone"]


@pytest.mark.slow
def test_article_gone_from_its_listing_is_removed_then_restored(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()  # every article old: none is fetched again on the next crawls
    with serve(site) as server:
        crawl(server, database_url, tmp_path)
        category = site.categories[0]
        hidden = site.category_articles(category.slug)[2]
        site.articles.remove(hidden)
        paths = crawl(server, database_url, tmp_path)
        assert hidden.path not in paths
        removed = diff(database_url)["removed"]
        assert [(e["url"], e["reason"]) for e in removed] == [(url_of(server, hidden), "unlisted")]
        site.articles.append(hidden)
        crawl(server, database_url, tmp_path)
        restored = diff(database_url)["restored"]
    assert [e["url"] for e in restored] == [url_of(server, hidden)]


@pytest.mark.slow
def test_repeat_crawl_of_unchanged_site_is_a_fraction_of_the_first(
    tmp_path: Path, database_url: str
) -> None:
    site = recent_site(articles=60)
    recent = {article.path for article in site.latest()[:6]}
    with serve(site) as server:
        first = crawl(server, database_url, tmp_path)
        second = crawl(server, database_url, tmp_path)
        statuses = dict(server.requests.entries())
        # The walk still finds a new article on page 1 and a fresh edit to a recent one.
        site.articles.append(fresh_article(site, "9100", "Bài mới trên trang một"))
        edited = site.latest()[3]
        edited.paragraphs[0] += " Đã sửa."
        third = crawl(server, database_url, tmp_path)
        report = diff(database_url)
        full = crawl(server, database_url, tmp_path, "-a", "full=1")

    assert len(second) * 3 <= len(first), (len(first), second)
    assert listing_pages_past_the_first(second) == []
    assert listing_pages_past_the_first(first)
    # Recent articles are re-checked with conditional requests, nothing else is downloaded.
    articles = [p for p in second if classify(p).kind is LinkKind.ARTICLE]
    assert set(articles) == recent and {statuses[p] for p in articles} == {304}

    assert [e["title"] for e in report["new"]] == ["Bài mới trên trang một"]
    assert [e["url"] for e in report["changed"]] == [url_of(server, edited)]
    assert len(third) < len(first)

    listings = set(site.listing_paths())
    assert listings <= set(full)
    fetched_ids = [classify(p).article_id for p in full if classify(p).kind is LinkKind.ARTICLE]
    assert sorted(fetched_ids) == sorted(a.article_id for a in site.articles)


@pytest.mark.parametrize("command", [["diff"], ["history"]])
@pytest.mark.slow
def test_diff_and_history_have_help(command: list[str]) -> None:
    done = coopspider(*command, "--help")
    assert done.returncode == 0 and "usage: coopspider" in done.stdout


@pytest.mark.slow
def test_history_of_an_unknown_url_and_diff_of_an_unknown_site_are_clear_errors(
    database_url: str,
) -> None:
    open_database(database_url).close()  # an archive, empty
    history = coopspider("--database", database_url, "history", "http://x/a/b-1.html")
    assert history.returncode == 2 and "no archived article" in history.stderr
    unknown = coopspider("--database", database_url, "diff", "--site", "nowhere")
    assert unknown.returncode == 2 and "unknown site 'nowhere'; known sites: " in unknown.stderr
    profile = coopspider("--database", database_url, "diff", "--site", "kontum")
    assert profile.returncode == 2 and "no completed crawl of site 'kontum'" in profile.stderr
    assert "Traceback" not in history.stderr + unknown.stderr


def test_sample_server_answers_conditional_requests_until_the_article_changes() -> None:
    site = build_site()
    article = site.articles[0]
    with serve(site) as server:
        url = url_of(server, article)
        with urllib.request.urlopen(url, timeout=10) as first:
            tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert tag and modified

        def status(**headers: str) -> int:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
                    return r.status
            except urllib.error.HTTPError as error:
                return error.code

        site.counter_total += 1  # the page around the article changes: still 304
        assert status(**{"If-None-Match": tag}) == 304
        assert status(**{"If-Modified-Since": modified}) == 304
        article.title += " (sửa)"
        assert status(**{"If-None-Match": tag}) == 200
        assert status(**{"If-Modified-Since": modified}) == 200
        server.conditional = False
        assert status(**{"If-None-Match": tag}) == 200
