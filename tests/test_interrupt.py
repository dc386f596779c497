"""Ctrl-C during a crawl, and a crawl of a site that is down, as a user at a terminal sees them:
real `coopspider` processes, the sample site on loopback, a real closed port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coopspider.exitcodes import EXIT_CRAWL_FAILED, EXIT_INTERRUPTED
from coopspider.sample_site import build_site, serve
from storage import RUN_INTERRUPTED, count_articles, open_database
from storage.models import CrawlRun
from tests.archive_checks import run_rows
from tests.conftest import ROOT, crawl_command
from tests.helpers import clean_env, free_port, write_config

INTERRUPTED_LINE = (
    "coopspider: interrupted: finishing the pages in flight and their archive writes "
    "(Ctrl-C again to stop at once)"
)
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")


def coopspider(database_url: str, *args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "coopspider.cli", "--database", database_url, *args],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[call-overload]
    )


def start_slow_run(workdir: Path, **popen: object) -> subprocess.Popen[str]:
    """`coopspider run` of the configured sites, slow enough to be stopped half-way."""
    return subprocess.Popen(
        [sys.executable, "-m", "coopspider.cli", "run", "--log-level", "ERROR"]
        + ["-s", "DOWNLOAD_DELAY=0.5", "-s", "AUTOTHROTTLE_ENABLED=0"],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[call-overload]
    )


def stored(database_url: str) -> int:
    database = open_database(database_url, read_only=True, create=False)
    try:
        with database.session() as session:
            return count_articles(session)
    finally:
        database.close()


def wait_for_articles(database_url: str, crawl: subprocess.Popen[str], at_least: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and crawl.poll() is None:
        try:
            if (count := stored(database_url)) >= at_least:
                return count
        except Exception:  # noqa: BLE001 - the crawl has not made the archive yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"the crawl stored fewer than {at_least} articles in time")


@pytest.mark.slow
def test_ctrl_c_stops_the_crawl_keeps_its_articles_and_records_it_interrupted(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    site = build_site()
    with serve(site) as server:
        # Its own process group, as a terminal's foreground job: the Ctrl-C below reaches the
        # crawl and its helper processes (archive writer, extraction workers) alike.
        crawl = coopspider(
            database_url,
            "crawl",
            "--base-url",
            server.base_url,
            "--site",
            "sample",
            "--log-level",
            "ERROR",
            "-s",
            "DOWNLOAD_DELAY=0.5",
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
            "-s",
            "COOPSPIDER_EXTRACT_PROCESSES=2",
            start_new_session=True,
        )
        before = wait_for_articles(database_url, crawl, at_least=2)
        os.killpg(crawl.pid, signal.SIGINT)
        stdout, stderr = crawl.communicate(timeout=60)

    assert crawl.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.splitlines() == [INTERRUPTED_LINE]
    assert "not parsed" not in stdout and "baseline" not in stdout

    after = stored(database_url)
    assert before <= after < len(site.articles), "the articles written before stay; it stopped"
    database = open_database(database_url, read_only=True, create=False)
    with database.session() as session:
        [run] = session.query(CrawlRun).all()
        assert (run.status, run.finish_reason) == ("failed", RUN_INTERRUPTED)
        assert run.stats["coopspider/interrupted"] is True
        assert run.stats.get("coopspider/pages/unparsed", 0) == 0
        assert run.stats.get("coopspider/store/errors", 0) == 0
    database.close()

    alert = coopspider(database_url, "alert", "--dry-run", "--site", "sample")
    out, err = alert.communicate(timeout=60)
    assert alert.returncode == 0, err
    assert "sự cố thu thập" not in out, "an interruption is no crawl health problem"


@pytest.mark.slow
def test_a_crawl_of_a_site_that_is_down_exits_4_with_one_line_saying_why(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    crawl = coopspider(
        database_url,
        "crawl",
        "--base-url",
        f"http://127.0.0.1:{free_port()}/",
        "--site",
        "down",
        "-s",
        "RETRY_TIMES=0",
    )
    stdout, stderr = crawl.communicate(timeout=120)
    assert crawl.returncode == EXIT_CRAWL_FAILED
    # Besides Scrapy's log of what it tried (its own lines, dated), one line of verdict.
    assert [line for line in stderr.splitlines() if not LOG_LINE.match(line)] == [
        "coopspider: crawl failed: the home page could not be read: connection refused"
    ]
    assert "baseline" not in stdout and "Crawl finished" not in stdout


@pytest.mark.slow
def test_ctrl_c_at_the_terminal_stops_run_and_its_crawl_once_cleanly(tmp_path: Path) -> None:
    site = build_site()
    with serve(site) as server:
        write_config(tmp_path, {"sample": server.base_url})
        # The terminal's foreground process group holds `run` (and, were it not in a group of
        # its own, the crawl): SIGINT goes to the whole group.
        process = start_slow_run(tmp_path, start_new_session=True)
        database_url = f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}"
        before = wait_for_articles(database_url, process, at_least=2)
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == EXIT_INTERRUPTED, stderr
    # One Ctrl-C reached the crawl once: a second would have stopped it at once, unrecorded.
    assert stderr.splitlines() == [INTERRUPTED_LINE]
    assert "Run finished" not in stdout, "no diff or alert after an interruption"
    assert before <= stored(database_url) < len(site.articles)
    [run] = run_rows(tmp_path)
    assert (run.status, run.finish_reason) == ("failed", RUN_INTERRUPTED)


@pytest.mark.slow
def test_sigterm_to_run_alone_is_passed_on_and_run_waits_for_its_crawl(tmp_path: Path) -> None:
    """timeout(1) and systemd signal `run` only, not the crawl's own process group: `run`
    passes SIGTERM on and ends only once the crawl has closed its run record."""
    site = build_site()
    with serve(site) as server:
        write_config(tmp_path, {"sample": server.base_url})
        process = start_slow_run(tmp_path)
        database_url = f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}"
        wait_for_articles(database_url, process, at_least=2)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGTERM
        [run] = run_rows(tmp_path)  # read at once: the crawl closed it before `run` ended
    assert (run.status, run.finish_reason) == ("failed", "shutdown")
    with pytest.raises(ProcessLookupError):
        os.kill(run.stats["coopspider/pid"], 0)


@pytest.mark.slow
def test_ctrl_c_stops_scrapy_crawl_the_same_way(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    site = build_site()
    with serve(site) as server:
        crawl = subprocess.Popen(
            crawl_command(server.base_url, database_url, tmp_path / "items.jsonl")
            + ["-s", "DOWNLOAD_DELAY=0.5", "-s", "LOG_LEVEL=ERROR"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        before = wait_for_articles(database_url, crawl, at_least=2)
        os.killpg(crawl.pid, signal.SIGINT)
        _, stderr = crawl.communicate(timeout=60)

    assert crawl.returncode == EXIT_INTERRUPTED, stderr
    assert stderr.splitlines() == [INTERRUPTED_LINE]
    assert before <= stored(database_url) < len(site.articles)
    database = open_database(database_url, read_only=True, create=False)
    with database.session() as session:
        [run] = session.query(CrawlRun).all()
        assert (run.status, run.finish_reason) == ("failed", RUN_INTERRUPTED)
    database.close()
