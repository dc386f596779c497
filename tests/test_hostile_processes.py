"""Processes killed outright, and crawls that overlap: real processes, real SIGKILLs.

What must hold: a crawl's worker processes (article extraction, the archive writer,
multiprocessing's resource tracker) die with it, and `run`'s crawl dies with `run`; `run` judges
the crawl it started by the run that crawl recorded, whatever other crawl of the site runs
meanwhile; after a crawl killed half-way, `diff` and the alert tell one story (only a finished
crawl reports, and it reports what the killed one archived too).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from coopspider.exitcodes import EXIT_CRAWL_FAILED, EXIT_LOCKED, EXIT_OK
from coopspider.sample_site import build_site, serve
from storage import open_database
from storage.models import CrawlRun
from tests.archive_checks import count_rows, runs
from tests.conftest import ROOT, crawl_command, scrapy_crawl
from tests.faultserver import FaultServer, stall
from tests.helpers import (
    GatedSite,
    clean_env,
    coopspider,
    finish,
    free_port,
    fresh_article,
    start_run,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

ARTICLE_PAUSE = 0.25


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for init to reap it does not)."""
    try:
        stat = (Path(f"/proc/{pid}") / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def slow_articles(server: FaultServer) -> None:
    for path in server.site.article_paths():
        server.faults[path] = stall(ARTICLE_PAUSE)


def start_crawl(
    server: FaultServer, database_url: str, tmp_path: Path, name: str, *extra: str
) -> subprocess.Popen[bytes]:
    """`scrapy crawl` of the server, one request at a time, log to {name}.log."""
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        crawl_command(
            server.base_url,
            database_url,
            tmp_path / f"{name}.jsonl",
            *("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"),
            *extra,
        ),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    """Clean up after a test that failed half-way: whatever is left of the process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_a_crawl_killed_outright_takes_its_worker_processes_with_it(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    with FaultServer(site) as server:
        slow_articles(server)
        crawl = start_crawl(
            server, database_url, tmp_path, "killed", "-s", "COOPSPIDER_EXTRACT_PROCESSES=1"
        )
        try:
            wait_until(lambda: count_rows(database_url, "article_versions") >= 3, "3 articles")
            workers = children(crawl.pid)
            kinds = {pid: command_line(pid) for pid in workers}
            # The writer and the extraction worker, and multiprocessing's resource tracker.
            assert sum("spawn_main" in line for line in kinds.values()) == 2, kinds
            assert sum("resource_tracker" in line for line in kinds.values()) == 1, kinds
            os.kill(crawl.pid, signal.SIGKILL)  # the crawl alone, not its process group
            crawl.wait(timeout=60)
            wait_until(
                lambda: not any(alive(pid) for pid in workers), "the workers to die", timeout=30
            )
        finally:
            kill_group(crawl)
    assert runs(database_url) == [("running", None)]


@contextlib.contextmanager
def run_half_way(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`coopspider run` of a slow sample site, and the pid of its crawl once it has stored three
    articles (its archive: data/archive.sqlite3); whatever is left is killed afterwards."""
    database_url = f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}"
    with FaultServer(build_site()) as server:
        slow_articles(server)
        write_config(tmp_path, {"sample": server.base_url})
        run = start_run(tmp_path)
        try:
            wait_until(lambda: count_rows(database_url, "article_versions") >= 3, "3 articles")
            (crawl,) = [pid for pid in children(run.pid) if "scrapy" in command_line(pid)]
            yield run, crawl
        finally:
            run.kill()
            run.wait()


def test_a_run_killed_outright_takes_its_crawl_with_it(tmp_path: Path) -> None:
    with run_half_way(tmp_path) as (run, crawl):
        workers = children(crawl)
        os.kill(run.pid, signal.SIGKILL)  # `run` alone
        run.communicate(timeout=60)
        wait_until(
            lambda: not any(alive(pid) for pid in [crawl, *workers]),
            "the crawl and its workers to stop",
            timeout=120,
        )
    # The crawl stopped as on Ctrl-C: its run is recorded as failed, not left running.
    assert runs(f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}") == [("failed", "shutdown")]


def test_run_judges_its_own_crawl_while_another_crawl_of_the_site_is_tried(tmp_path: Path) -> None:
    """A crawl of the same site started by hand during `run` is refused by the site's lock and
    records no run of its own; `run` judges the crawl it started, which finished."""
    database_url = f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}"
    ours = GatedSite(build_site())
    with serve(ours.site) as run_server, serve(build_site()) as other_server:
        run_server.site = ours  # type: ignore[assignment]
        write_config(tmp_path, {"sample": run_server.base_url})
        run = start_run(tmp_path)
        try:
            wait_until(lambda: count_rows(database_url, "crawl_runs") == 1, "run's crawl run")
            manual = subprocess.run(
                crawl_command(
                    other_server.base_url,
                    database_url,
                    tmp_path / "manual.jsonl",
                    "-a",
                    "site=sample",
                ),
                cwd=ROOT,
                capture_output=True,
                text=True,
                env=clean_env(),
                timeout=300,
            )
            assert manual.returncode == EXIT_LOCKED, manual.stderr[-3000:]
            assert "another crawl of site sample is running" in manual.stderr
            assert count_rows(database_url, "crawl_runs") == 1, "the refused crawl recorded a run"
            ours.gate.set()
            code, out, err = finish(run)
        finally:
            ours.gate.set()
            run.wait(timeout=300)

    assert code == EXIT_OK, out + err[-3000:]
    assert "sample: crawled " in out and "(run 1)" in out, out
    assert [status for status, _ in runs(database_url)] == ["finished"]


def test_a_crawl_killed_half_way_tells_diff_and_the_alert_one_story(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=8)
    fresh = [
        fresh_article(site, str(9001 + n), f"Bài mới số {n + 1} trong ngày") for n in range(30)
    ]
    env = {**clean_env(), "COOPSPIDER_DATABASE_URL": database_url}

    with FaultServer(site) as server:
        baseline = scrapy_crawl(server.base_url, database_url, tmp_path / "baseline.jsonl")
        assert baseline.returncode == 0, baseline.log[-3000:]
        site.articles.extend(fresh)
        slow_articles(server)
        crawl = start_crawl(server, database_url, tmp_path, "killed")
        try:
            wait_until(lambda: count_rows(database_url, "articles") >= 8 + 10, "10 new articles")
            os.kill(crawl.pid, signal.SIGKILL)
            crawl.wait(timeout=60)
        finally:
            kill_group(crawl)
        archived_by_killed = count_rows(database_url, "articles") - 8
        assert 10 <= archived_by_killed < 30

        # The killed crawl did not finish: neither diff nor the alert reports its articles yet.
        early_diff = json.loads(coopspider("diff", "--json", env=env).stdout)
        early_alert = coopspider("alert", "--dry-run", env=env)
        assert early_diff["new"] == []
        assert early_alert.returncode == 0, early_alert.stderr
        assert not any(article.title in early_alert.stdout for article in fresh)

        server.faults.clear()
        finished = scrapy_crawl(server.base_url, database_url, tmp_path / "after.jsonl")
        assert finished.returncode == 0, finished.log[-3000:]

    # The crawl that finished reports all 30, those the killed one archived included.
    report = json.loads(coopspider("diff", "--json", env=env).stdout)
    assert sorted(entry["title"] for entry in report["new"]) == sorted(a.title for a in fresh)
    assert any(
        "crawl failed (abandoned); what it archived is reported here" in error["message"]
        for error in report["errors"]
    ), report["errors"]
    alert = coopspider("alert", "--dry-run", env=env)
    assert alert.returncode == 0, alert.stderr
    subject = alert.stdout.splitlines()[0]
    assert ", 30 tin mới," in subject and "1 sự cố thu thập" in subject, subject
    assert all(article.title in alert.stdout for article in fresh)
    assert runs(database_url) == [
        ("finished", "finished"),
        ("failed", "abandoned"),
        ("finished", "finished"),
    ]


def test_a_crawl_that_failed_having_archived_nothing_costs_no_full_walk(
    tmp_path: Path, database_url: str
) -> None:
    """Only a crawl that archived new articles without finishing makes the next walk every
    listing page; one of a site that was down leaves the next crawl incremental."""
    with serve(build_site()) as server:
        for name, base_url in [
            ("baseline", server.base_url),
            ("down", f"http://127.0.0.1:{free_port()}/"),
            ("after", server.base_url),
        ]:
            done = scrapy_crawl(
                base_url, database_url, tmp_path / f"{name}.jsonl", "-a", "site=sample"
            )
            assert done.returncode == 0, done.log[-3000:]
    assert [status for status, _ in runs(database_url)] == ["finished", "failed", "finished"]
    database = open_database(database_url, read_only=True)
    try:
        with database.session() as session:
            last = session.query(CrawlRun).order_by(CrawlRun.id.desc()).first()
    finally:
        database.close()
    assert last is not None and last.stats.get("coopspider/listings/walk_stopped", 0) >= 1


def test_a_crawl_killed_under_run_is_closed_and_reported_by_that_run(tmp_path: Path) -> None:
    with run_half_way(tmp_path) as (run, crawl):
        os.kill(crawl, signal.SIGKILL)  # the crawl alone (out of memory, say)
        code, out, err = finish(run)
    assert code == EXIT_CRAWL_FAILED, err[-3000:]
    assert "sample: crawl FAILED: scrapy exited with status -9 (run 1)" in out, out
    # Closed by `run` itself, and reported by its own alert (printed: no recipients).
    assert runs(f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}") == [("failed", "abandoned")]
    assert "không hoàn tất (lý do: abandoned)" in out, out
