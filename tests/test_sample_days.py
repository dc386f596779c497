"""The sample site moves on from day to day (`coopspider sample-site --day N`): new articles,
edited ones and a growing visitor counter, which a crawl a day archives and the monitor reports."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from coopspider.sample_site import build_site
from coopspider.sample_site.generator import EDITS_PER_DAY, NEW_PER_DAY
from tests.conftest import ROOT
from tests.helpers import coopspider, free_port


def test_each_day_adds_articles_edits_earlier_ones_and_raises_the_counter() -> None:
    day0, day1, day2 = (build_site(day=n) for n in range(3))
    assert day0 == build_site() and day2 == build_site(day=2)  # the same N, the same site
    assert [len(site.articles) for site in (day0, day1, day2)] == [24, 24 + NEW_PER_DAY, 28]
    assert day0.counter_total < day1.counter_total < day2.counter_total
    before = {a.article_id: (a.title, a.paragraphs) for a in day0.articles}
    new = [a for a in day1.articles if a.article_id not in before]
    edited = [a for a in day1.articles if before.get(a.article_id, (a.title, a.paragraphs)) !=
              (a.title, a.paragraphs)]  # fmt: skip
    assert len(new) == NEW_PER_DAY and len(edited) == EDITS_PER_DAY
    # The day's articles head the listings, with dates after every earlier one.
    assert {a.article_id for a in day1.latest(NEW_PER_DAY)} == {a.article_id for a in new}
    assert min(a.date for a in new) > max(a.date for a in day0.articles)
    assert min(int(a.article_id) for a in new) > max(int(i) for i in before)


def crawl_day(day: int, port: int, database_url: str) -> None:
    """Serve `sample-site --day DAY` and run the crawl command it prints, into `database_url`."""
    server = subprocess.Popen(
        [sys.executable, "-m", "coopspider.cli", "sample-site", "--port", str(port),
         "--day", str(day)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = server.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}/", server.stderr.read()
        hints = [server.stderr.readline().rstrip("\n") for _ in range(3)]
        assert hints[0].startswith(f"Day {day}: ") and f"--day {day + 1}" in hints[0]
        command = shlex.split(hints[2])
        assert command[:2] == ["scrapy", "crawl"] and "site=sample" in command
        assert "DOWNLOAD_DELAY=0" in command and "AUTOTHROTTLE_ENABLED=0" in command
        done = subprocess.run(
            [sys.executable, "-m", *command, "-s", f"DATABASE_URL={database_url}"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


def ids(entries: list[dict]) -> set[str]:
    """The article ids of report entries (an article listed under two categories may be
    archived under either URL; both end in -{id}.html on this grammar)."""
    return {entry["url"].rsplit("-", 1)[1].removesuffix(".html") for entry in entries}


def diff(database_url: str) -> dict:
    done = coopspider("--database", database_url, "diff", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_three_days_of_crawls_report_new_and_edited_articles_and_a_moving_counter(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    sites = [build_site(day=n) for n in range(3)]

    crawl_day(0, port, database_url)
    report = diff(database_url)
    assert report["baseline"] == [{"site": "sample", "articles": 24}]

    crawl_day(1, port, database_url)
    report = diff(database_url)
    before = {a.article_id: (a.title, a.paragraphs) for a in sites[0].articles}
    new = {a.article_id for a in sites[1].articles if a.article_id not in before}
    edited = {
        a.article_id
        for a in sites[1].articles
        if a.article_id in before and before[a.article_id] != (a.title, a.paragraphs)
    }
    assert ids(report["new"]) == new and len(new) == NEW_PER_DAY
    assert ids(report["changed"]) == edited and len(edited) == EDITS_PER_DAY
    (counter,) = report["counters"]
    assert counter["total"] == sites[1].counter_total
    assert counter["delta"] == sites[1].counter_total - sites[0].counter_total > 0

    crawl_day(2, port, database_url)
    report = diff(database_url)
    assert len(report["new"]) == NEW_PER_DAY
    (counter,) = report["counters"]
    assert counter["delta"] == sites[2].counter_total - sites[1].counter_total > 0
    assert counter["anomalies"] == []  # three readings, all different: no frozen counter
