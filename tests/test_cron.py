"""cron/coopspider-cron, run as cron would, from a temporary installation against a local site."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coopspider.exitcodes import EXIT_CRAWL_FAILED, EXIT_LOCKED, EXIT_OK
from coopspider.sample_site import build_site, serve
from storage import count_articles, open_database
from storage.models import CrawlRun
from tests.conftest import ROOT
from tests.helpers import RUN_FAST, clean_env, free_port

SCRIPT = ROOT / "cron" / "coopspider-cron"
DAY = 24 * 3600


@pytest.fixture
def installation(tmp_path: Path) -> Path:
    """An installation laid out as the README says: cron/, .venv/, coopspider.toml, data/."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "python").exists():
        pytest.skip("the tests do not run from a virtualenv with bin/python")
    home = tmp_path / "coopspider"
    (home / "cron").mkdir(parents=True)
    shutil.copy2(SCRIPT, home / "cron" / "coopspider-cron")
    (home / ".venv").symlink_to(venv, target_is_directory=True)
    return home


def configure(home: Path, base_url: str) -> None:
    # A relative database path: found only if the script runs from the installation directory.
    (home / "coopspider.toml").write_text(
        f'[database]\nurl = "sqlite:///data/archive.sqlite3"\n\n'
        f'[sites.sample]\nbase_url = "{base_url}"\n',
        encoding="utf-8",
    )


def cron(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the script as cron does: another working directory, a minimal environment."""
    environment = {**clean_env(), **env}
    return subprocess.run(
        [str(home / "cron" / "coopspider-cron"), *args],
        cwd="/",
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def logs(home: Path) -> list[Path]:
    return sorted((home / "logs").glob("run-*.log"))


@pytest.mark.slow
def test_a_run_leaves_a_dated_log_the_archive_and_exit_0(installation: Path) -> None:
    site = build_site()
    with serve(site) as server:
        configure(installation, server.base_url)
        done = cron(installation, *RUN_FAST)
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout == "" and done.stderr == "", "silent when all went well: no cron mail"

    [log] = logs(installation)
    assert log.name.startswith(f"run-{time.strftime('%Y%m%d')}-")
    text = log.read_text(encoding="utf-8")
    assert "== coopspider run -s DOWNLOAD_DELAY=0" in text
    assert "Run finished in" in text and "sample: crawled" in text
    assert text.rstrip().splitlines()[-1].startswith("== exit code 0 (finished ")

    database = open_database(f"sqlite:///{installation / 'data' / 'archive.sqlite3'}")
    with database.session() as session:
        assert count_articles(session, site="sample") == len(site.articles)
    database.close()


@pytest.mark.slow
def test_a_failed_crawl_passes_its_code_on_and_prints_the_log_end(installation: Path) -> None:
    configure(installation, f"http://127.0.0.1:{free_port()}/")
    (installation / "logs").mkdir()
    old = installation / "logs" / "run-20200101-061500.log"
    recent = installation / "logs" / "run-20991231-061500.log"
    unrelated = installation / "logs" / "notes.txt"
    for path in (old, recent, unrelated):
        path.write_text("earlier\n")
    os.utime(old, (time.time() - 40 * DAY, time.time() - 40 * DAY))
    os.utime(unrelated, (time.time() - 40 * DAY, time.time() - 40 * DAY))

    done = cron(installation, *RUN_FAST, COOPSPIDER_LOG_KEEP_DAYS="30")
    assert done.returncode == EXIT_CRAWL_FAILED
    assert done.stderr.startswith(f"coopspider run failed with exit code {EXIT_CRAWL_FAILED}; log:")
    assert "sample: crawl FAILED: the home page could not be read" in done.stderr

    assert not old.exists(), "logs older than the kept days are deleted"
    assert recent.exists() and unrelated.exists()
    [new_log] = [log for log in logs(installation) if log != recent]
    assert f"== exit code {EXIT_CRAWL_FAILED} (finished " in new_log.read_text(encoding="utf-8")


def test_a_run_still_going_makes_the_next_exit_75_at_once(installation: Path) -> None:
    configure(installation, "http://127.0.0.1:9/")
    (installation / "logs").mkdir()
    with (installation / "logs" / ".coopspider-cron.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        started = time.monotonic()
        done = cron(installation)
        took = time.monotonic() - started
    assert done.returncode == EXIT_LOCKED and took < 10
    assert done.stdout == "" and done.stderr == "", "a held lock is no failure: no cron mail"
    [log] = logs(installation)
    assert "== another run holds the lock: nothing done" in log.read_text(encoding="utf-8")
    assert not (installation / "data").exists(), "nothing was run"


@pytest.mark.slow
def test_a_run_started_by_hand_holding_the_run_lock_makes_cron_exit_75_quietly(
    installation: Path,
) -> None:
    configure(installation, "http://127.0.0.1:9/")
    # `coopspider run`'s own lock, next to the SQLite archive, as a run started by hand holds it.
    (installation / "data").mkdir()
    with (installation / "data" / "archive.sqlite3.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = cron(installation)
    assert done.returncode == EXIT_LOCKED
    assert done.stdout == "" and done.stderr == "", "a held lock is no failure: no cron mail"
    [log] = logs(installation)
    assert "another run holds the lock" in log.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_run_over_the_time_bound_is_stopped_with_124(installation: Path) -> None:
    site = build_site()
    with serve(site) as server:
        configure(installation, server.base_url)
        # A polite delay makes the crawl far longer than the bound.
        done = cron(installation, "-s", "DOWNLOAD_DELAY=5", COOPSPIDER_TIMEOUT="3s")
    assert done.returncode == 124
    [log] = logs(installation)
    assert "== stopped: the run took longer than 3s" in log.read_text(encoding="utf-8")
    # The crawl runs in a process group of its own, out of timeout's reach: `run` passed the
    # SIGTERM on, so the crawl stopped, closed its run (if it had got as far as opening one on
    # a busy machine) and is gone, like the rest of the tree.
    database = open_database(f"sqlite:///{installation / 'data' / 'archive.sqlite3'}")
    with database.session() as session:
        runs = session.query(CrawlRun).all()
        assert [(run.status, run.finish_reason) for run in runs] in ([], [("failed", "shutdown")])
        crawl_pids = [run.stats["coopspider/pid"] for run in runs]
    database.close()
    for pid in crawl_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_missing_virtualenv_is_named(tmp_path: Path) -> None:
    home = tmp_path / "bare"
    (home / "cron").mkdir(parents=True)
    shutil.copy2(SCRIPT, home / "cron" / "coopspider-cron")
    done = cron(home)
    assert done.returncode == 127
    assert done.stderr == f"coopspider-cron: no virtualenv at {home}/.venv (set COOPSPIDER_VENV)\n"


UNITS = [
    "coopspider.service",
    "coopspider.timer",
    "coopspider-full.service",
    "coopspider-full.timer",
]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    """The units as shipped, pointed at a temporary installation and run as the current user."""
    (tmp_path / "cron").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "cron" / "coopspider-cron")
    user = (
        os.environ.get("USER")
        or subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    )
    for unit in UNITS:
        text = (ROOT / "cron" / unit).read_text(encoding="utf-8")
        text = text.replace("/opt/coopspider", str(tmp_path))
        text = text.replace("User=coopspider", f"User={user}").replace("Group=coopspider\n", "")
        (tmp_path / unit).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / unit) for unit in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_crontab_calls_the_wrapper_on_a_morning_and_a_weekly_full_schedule() -> None:
    lines = [
        line.split()
        for line in (ROOT / "cron" / "crontab").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert [fields[:5] for fields in lines] == [
        ["15", "6", "*", "*", "*"],
        ["30", "2", "*", "*", "0"],
    ]
    assert [fields[5:] for fields in lines] == [
        ["/opt/coopspider/cron/coopspider-cron"],
        ["/opt/coopspider/cron/coopspider-cron", "--full"],
    ]


def test_the_crontab_leaves_failure_mail_on_and_shows_where_to_send_it() -> None:
    settings = [
        line.split("=", 1)[0]
        for line in (ROOT / "cron" / "crontab").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert "MAILTO" not in settings, 'MAILTO="" would drop the mail of failed runs unseen'
    assert "# MAILTO=you@example.org" in (ROOT / "cron" / "crontab").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("git") is None, reason="no git here")
@pytest.mark.parametrize(
    "path", ["coopspider.toml", "coopspider.env", "logs/run-20260101-061500.log"]
)
def test_git_ignores_the_local_configuration_secrets_and_logs(path: str) -> None:
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, capture_output=True
    )
    assert done.returncode == 0, f"{path} is not ignored by .gitignore"


def test_git_keeps_the_shipped_example_configuration() -> None:
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", "coopspider.example.toml"],
        cwd=ROOT,
        capture_output=True,
    )
    assert done.returncode == 1
