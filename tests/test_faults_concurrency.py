"""Concurrency: two crawls at once into one archive, and a crawl while other commands read it.

What must hold (SQLite in WAL mode with a busy timeout, and PostgreSQL): every write lands, each
article once with one version, no "database is locked", and readers see whole articles only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from coopspider.sample_site import build_site
from storage import count_articles, open_database
from storage.models import Article, CrawlRun
from tests.archive_checks import assert_consistent
from tests.conftest import ROOT, crawl_command, read_feed
from tests.faultserver import FaultServer, stall

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

LOCKED = "database is locked"


def slow_down_articles(server: FaultServer, seconds: float) -> None:
    for path in server.site.article_paths():
        server.faults[path] = stall(seconds)


def start_crawl(
    server: FaultServer, database_url: str, feed: Path, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        crawl_command(server.base_url, database_url, feed, *extra),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_two_crawls_at_once_into_one_archive_lose_no_write(
    tmp_path: Path, database_url: str
) -> None:
    # Two sites: a second crawl of the same site is refused (tests/test_locks.py).
    site, names = build_site(), ("one", "two")
    open_database(database_url).close()  # migrated before the race starts
    with FaultServer(site) as server:
        slow_down_articles(server, 0.05)
        crawls = [
            start_crawl(server, database_url, tmp_path / f"{n}.jsonl", "-a", f"site={name}")
            for n, name in enumerate(names, 1)
        ]
        logs = [crawl.communicate(timeout=300)[1] for crawl in crawls]

    for crawl, log in zip(crawls, logs, strict=True):
        assert crawl.returncode == 0, log[-3000:]
        assert LOCKED not in log and "Not stored" not in log, log[-3000:]
        assert "abandoned" not in log
    assert_consistent(database_url)
    database = open_database(database_url, read_only=True)
    with database.session() as session:
        runs = session.query(CrawlRun).order_by(CrawlRun.id).all()
        versions = {(a.site, a.article_id): len(a.versions) for a in session.query(Article)}
    database.close()
    # The two crawls overlapped, and each wrote every article of its site exactly once.
    assert runs[1].started_at < runs[0].finished_at
    assert [run.status for run in runs] == ["finished", "finished"]
    assert versions == {(name, a.article_id): 1 for name in names for a in site.articles}
    assert [run.stats.get("coopspider/articles/new", 0) for run in runs] == [len(site.articles)] * 2
    for n in (1, 2):
        feed = read_feed(tmp_path / f"{n}.jsonl")
        articles_and_counter = [item for item in feed if "body" in item or "total" in item]
        assert len(articles_and_counter) == len(site.articles) + 1


def test_crawl_while_export_diff_search_report_and_alert_read_the_archive(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    open_database(database_url).close()
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    stop = threading.Event()
    problems: list[str] = []
    exports: list[int] = []
    selects: list[int] = []
    monitored: list[int] = []

    def coopspider(*arguments: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "coopspider.cli", *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            problems.append(f"coopspider {' '.join(arguments)}: {done.stderr}")
        return done

    def export_again_and_again() -> None:
        while not stop.is_set():
            rows = [json.loads(line) for line in coopspider("export").stdout.splitlines()]
            if any(not (row["title"] and row["body"]) for row in rows):
                problems.append("an exported article without title or body")
            exports.append(len(rows))

    def monitor_again_and_again() -> None:
        # The commands people run while a crawl writes: each must answer, never "locked".
        while not stop.is_set():
            coopspider("diff", "--json")
            coopspider("search", "hop tac xa")
            coopspider("report", "--out", str(tmp_path / "report"))
            coopspider("alert", "--dry-run")
            monitored.append(1)

    def select_again_and_again() -> None:
        # What diff, alerts and reports do: plain reads, some in long transactions.
        database = open_database(database_url, read_only=True)
        try:
            while not stop.is_set():
                with database.session() as session:
                    selects.append(count_articles(session))
                    session.execute(text("SELECT count(*) FROM article_versions")).scalar()
                    time.sleep(0.5)  # the transaction stays open meanwhile
        except Exception as error:  # noqa: BLE001 - reported by the test below
            problems.append(repr(error))
        finally:
            database.close()

    readers = [
        threading.Thread(target=export_again_and_again),
        threading.Thread(target=select_again_and_again),
        threading.Thread(target=monitor_again_and_again),
    ]
    with FaultServer(site) as server:
        slow_down_articles(server, 0.1)
        for reader in readers:
            reader.start()
        crawl = start_crawl(server, database_url, tmp_path / "items.jsonl")
        log = crawl.communicate(timeout=300)[1]
        stop.set()
        for reader in readers:
            reader.join(timeout=120)

    assert crawl.returncode == 0, log[-3000:]
    assert LOCKED not in log and "Not stored" not in log, log[-3000:]
    assert problems == []
    assert len(exports) >= 2 and len(selects) >= 2 and monitored
    assert exports == sorted(exports) and selects == sorted(selects)  # the archive only grows
    assert_consistent(database_url)
    database = open_database(database_url, read_only=True)
    with database.session() as session:
        assert count_articles(session) == len(site.articles)
        assert session.query(CrawlRun).one().status == "finished"
    database.close()
