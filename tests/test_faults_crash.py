"""Crashes: the real crawl (and its writer process) killed with SIGKILL half-way, then run again.

What must hold: the archive is consistent after the kill (no duplicate article, no article without
a version, no gap in version numbers, no half-written row); the killed run is shown as failed
("abandoned") by the next crawl, which finishes the work.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coopspider.pipelines.store import is_abandoned
from coopspider.sample_site import build_site
from storage import open_database
from storage.models import Article, CrawlRun
from tests.archive_checks import assert_consistent, assert_warc_pointers_whole, count_rows, runs
from tests.conftest import ROOT, crawl_command, scrapy_crawl
from tests.faultserver import FaultServer, stall
from tests.helpers import wait_until

# One request at a time, each article answered after a pause: the crawl lasts long enough to be
# killed in the middle.
SLOW = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
ARTICLE_PAUSE = 0.25


def start_slow_crawl(
    server: FaultServer, database_url: str, tmp_path: Path, name: str
) -> subprocess.Popen:
    """A crawl of the server's site, every article slowed down, in its own process group (the
    crawl and its writer process); log to {name}.log."""
    for path in server.site.article_paths():
        server.faults[path] = stall(ARTICLE_PAUSE)
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        crawl_command(server.base_url, database_url, tmp_path / f"{name}.jsonl", *SLOW),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )


def writer_pid(crawl_pid: int) -> int:
    """The archive writer: the crawl's child process started by multiprocessing's spawn."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == crawl_pid and b"spawn_main" in cmdline:
            return int(entry.name)
    raise AssertionError(f"no writer process under {crawl_pid}")


def versions_per_article(database_url: str) -> dict[str, int]:
    database = open_database(database_url)
    try:
        with database.session() as session:
            return {a.article_id: len(a.versions) for a in session.query(Article)}
    finally:
        database.close()


@pytest.mark.slow
def test_crawl_killed_half_way_leaves_a_consistent_archive_and_the_next_run_finishes(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    total = len(site.articles)
    with FaultServer(site) as server:
        crawl = start_slow_crawl(server, database_url, tmp_path, "killed")
        try:
            wait_until(lambda: count_rows(database_url, "article_versions") >= 5, "5 articles")
            writer = writer_pid(crawl.pid)
        finally:
            os.killpg(crawl.pid, signal.SIGKILL)  # the crawl, its writer: the whole group
            crawl.wait(timeout=60)
        wait_until(lambda: not Path(f"/proc/{writer}").exists(), "the writer to be gone", 10)

        stored = count_rows(database_url, "articles")
        assert 5 <= stored < total, "killed half-way"
        assert_consistent(database_url)
        # The WARC records written before the kill: none of those pointed at is torn.
        assert_warc_pointers_whole(database_url, tmp_path / "warc")
        assert runs(database_url) == [("running", None)]

        server.faults.clear()
        again = scrapy_crawl(server.base_url, database_url, tmp_path / "again.jsonl")

    assert again.returncode == 0, again.log[-3000:]
    assert "was left running by a crawl that is gone: marked failed (abandoned)" in again.log
    assert_consistent(database_url)
    assert_warc_pointers_whole(database_url, tmp_path / "warc")
    assert runs(database_url) == [("failed", "abandoned"), ("finished", "finished")]
    assert versions_per_article(database_url) == {a.article_id: 1 for a in site.articles}


@pytest.mark.slow
def test_writer_process_killed_stops_the_crawl_as_failed_and_the_next_run_finishes(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    with FaultServer(site) as server:
        crawl = start_slow_crawl(server, database_url, tmp_path, "writer-killed")
        try:
            wait_until(lambda: count_rows(database_url, "article_versions") >= 3, "3 articles")
            os.kill(writer_pid(crawl.pid), signal.SIGKILL)
            crawl.wait(timeout=120)  # the crawl notices and stops: it does not hang
        finally:
            if crawl.poll() is None:
                os.killpg(crawl.pid, signal.SIGKILL)
                crawl.wait()
        log = (tmp_path / "writer-killed.log").read_text()
        assert "The archive writer process died" in log
        assert_consistent(database_url)
        assert runs(database_url) == [("failed", "archive_writer_died")]
        assert count_rows(database_url, "articles") < len(site.articles)

        server.faults.clear()
        again = scrapy_crawl(server.base_url, database_url, tmp_path / "again.jsonl")

    assert again.returncode == 0, again.log[-3000:]
    assert_consistent(database_url)
    assert runs(database_url)[-1] == ("finished", "finished")
    assert versions_per_article(database_url) == {a.article_id: 1 for a in site.articles}


def test_a_running_run_is_abandoned_only_when_its_crawl_is_surely_gone() -> None:
    now = datetime.now(UTC)
    gone = subprocess.Popen(["true"])  # a process that has come and gone
    gone.wait()
    here = socket.gethostname()

    def run(host: str | None, pid: int | None, age: timedelta) -> CrawlRun:
        owner = {"coopspider/host": host, "coopspider/pid": pid} if host else None
        return CrawlRun(status="running", started_at=now - age, stats=owner)

    assert is_abandoned(run(here, gone.pid, timedelta(minutes=1)), now)
    assert not is_abandoned(run(here, os.getpid(), timedelta(days=30)), now)  # alive: never
    # Another machine's crawl cannot be checked: a day is longer than any crawl.
    assert not is_abandoned(run("elsewhere", 1, timedelta(hours=23)), now)
    assert is_abandoned(run("elsewhere", 1, timedelta(hours=25)), now)
    # A run recorded before runs had owners: the same rule.
    assert not is_abandoned(run(None, None, timedelta(hours=1)), now)
    assert is_abandoned(run(None, None, timedelta(days=2)), now)
