"""`coopspider run`: the lock, one child crawl per site, exit codes, and the parts of the cycle."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from coopspider.config import Config, RunConfig, SiteConfig, Sites
from coopspider.cycle import (
    RunContext,
    StepOutcome,
    crawl_command,
    crawl_environment,
    default_lock_file,
    judge_crawl,
    run_cycle,
    select_sites,
)
from coopspider.exitcodes import EXIT_ALERTS_NOT_SENT, EXIT_CRAWL_FAILED, EXIT_LOCKED, EXIT_OK
from coopspider.sample_site import build_site, serve
from storage import LockHeld, file_lock, latest_versions, open_database
from tests.archive_checks import run_rows
from tests.conftest import ROOT
from tests.helpers import (
    GatedSite,
    finish,
    free_port,
    start_run,
    wait_until,
    write_config,
)


# Politeness off for our own loopback server; quiet Scrapy logs.
def archived_ids(workdir: Path, site: str) -> set[str]:
    database = open_database(f"sqlite:///{workdir / 'data' / 'archive.sqlite3'}")
    try:
        with database.session() as session:
            return {article.article_id for article, _ in latest_versions(session, site=site)}
    finally:
        database.close()


# -- end to end -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_runs_started_together_one_runs_the_other_exits_locked(tmp_path: Path) -> None:
    site = build_site()
    gated = GatedSite(site)
    with serve(site) as server:
        server.site = gated  # type: ignore[assignment]
        write_config(tmp_path, {"sample": server.base_url})
        runs = [start_run(tmp_path), start_run(tmp_path)]
        try:
            wait_until(lambda: any(run.poll() is not None for run in runs), "a run to exit")
            loser = next(run for run in runs if run.poll() is not None)
            winner = next(run for run in runs if run is not loser)
            code, out, err = finish(loser)
            assert code == EXIT_LOCKED, err
            assert f"another run holds the lock {tmp_path / 'data' / 'archive.sqlite3.lock'}" in err
            assert f"(pid {winner.pid})" in err and out == ""
            assert winner.poll() is None, "the winner is still held by the gate"
        finally:
            gated.gate.set()
        code, out, err = finish(winner)
        assert code == EXIT_OK, err[-3000:]
        assert gated.reached.is_set()
        assert "Run finished" in out and "sample: crawled" in out
        assert [run.site for run in run_rows(tmp_path)] == ["sample"], "the loser crawled nothing"
        # The lock is free again: the next run goes ahead.
        code, out, err = finish(start_run(tmp_path))
        assert code == EXIT_OK, err[-3000:]


@pytest.mark.slow
def test_a_failing_site_does_not_stop_the_others_and_gives_the_crawl_failed_code(
    tmp_path: Path,
) -> None:
    site = build_site()
    with serve(site) as server:
        # The broken site comes first: the good one must still be crawled after it.
        write_config(
            tmp_path, {"down": f"http://127.0.0.1:{free_port()}/", "sample": server.base_url}
        )
        code, out, err = finish(start_run(tmp_path))
    assert code == EXIT_CRAWL_FAILED, err[-3000:]
    lines = out.splitlines()
    assert lines[0].startswith("Crawling down (http://127.0.0.1:")
    assert any(
        line.startswith(
            "  down: crawl FAILED: the home page could not be read: connection refused (run "
        )
        for line in lines
    ), out
    assert any(line.startswith("  sample: crawled ") for line in lines), out
    assert archived_ids(tmp_path, "sample") == {a.article_id for a in site.articles}


@pytest.mark.slow
def test_a_crawl_over_run_timeout_is_stopped_and_counted_failed(tmp_path: Path) -> None:
    with serve(build_site()) as server:
        write_config(tmp_path, {"sample": server.base_url})
        with (tmp_path / "coopspider.toml").open("a", encoding="utf-8") as config:
            config.write("\n[run]\ntimeout = 2\n")
        started = time.monotonic()
        # A polite delay makes the crawl far longer than the timeout.
        code, out, err = finish(start_run(tmp_path, "-s", "DOWNLOAD_DELAY=4"))
    assert code == EXIT_CRAWL_FAILED, err[-3000:]
    assert "sample: crawl FAILED: the crawl did not finish (closespider_timeout)" in out
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_configured_categories_reach_the_spider(tmp_path: Path) -> None:
    site = build_site()
    with serve(site) as server:
        write_config(
            tmp_path, {"sample": server.base_url}, extra='categories = ["chinh-sach-ho-tro"]\n'
        )
        code, out, err = finish(start_run(tmp_path, "--site", "sample"))
        fetched = list(server.requests)
    assert code == EXIT_OK, err[-3000:]
    wanted = {a.article_id for a in site.articles if "chinh-sach-ho-tro" in a.categories}
    assert wanted and wanted != {a.article_id for a in site.articles}
    assert archived_ids(tmp_path, "sample") == wanted
    assert not [path for path in fetched if path.startswith("/tin-tuc-su-kien/page-")]


@pytest.mark.slow
def test_unknown_site_and_bad_options_are_clear_errors(tmp_path: Path) -> None:
    write_config(tmp_path, {"one": "http://127.0.0.1:9/", "two": "http://127.0.0.1:9/"})
    code, _, err = finish(start_run(tmp_path, "--site", "three"))
    assert code == 2 and "no site 'three' in the configuration or the profiles (" in err
    assert "kontum, one, quangtri" in err and "thaibinh, two)" in err
    code, _, err = finish(start_run(tmp_path, "--base-url", "http://127.0.0.1:9/"))
    assert code == 2 and "--base-url is one site's root: add --site NAME (sites: one, two)" in err
    code, _, err = finish(start_run(tmp_path, "-s", "DOWNLOAD_DELAY"))
    assert code == 2 and "-s expects NAME=VALUE, got 'DOWNLOAD_DELAY'" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_database_that_cannot_be_opened_stops_the_run_before_any_crawl(tmp_path: Path) -> None:
    (tmp_path / "occupied").write_text("a file where the database directory should be")
    (tmp_path / "coopspider.toml").write_text(
        '[database]\nurl = "sqlite:///occupied/archive.sqlite3"\n'
        '[sites.x]\nbase_url = "http://127.0.0.1:9/"\n[run]\nlock_file = "run.lock"\n'
    )
    code, out, err = finish(start_run(tmp_path))
    assert code == 2 and out == "", err
    assert err.startswith("coopspider: error: cannot open the database sqlite:///occupied/")
    assert len(err.splitlines()) == 1


@pytest.mark.slow
def test_a_lock_file_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "occupied").write_text("a file where the lock directory should be")
    (tmp_path / "coopspider.toml").write_text('[run]\nlock_file = "occupied/run.lock"\n')
    code, _, err = finish(start_run(tmp_path))
    assert code == 2 and "Traceback" not in err
    assert f"cannot take the lock {tmp_path / 'occupied' / 'run.lock'}: " in err


# -- the parts ------------------------------------------------------------------------------------


def test_the_lock_is_exclusive_names_its_holder_and_is_released(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "run.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from storage import file_lock\n"
            "with file_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(LockHeld) as raised, file_lock(path):
            pass
        assert raised.value.holder == f"pid {holder.pid}"
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the killed holder's lock: no stale lock to clean up by hand.
    with file_lock(path):
        assert path.read_text() == f"{os.getpid()}\n"
    assert path.read_text() == ""


@pytest.mark.parametrize(
    ("url", "lock"),
    [
        ("sqlite:///data/coopspider.sqlite3", Path("data/coopspider.sqlite3.lock")),
        ("sqlite:////var/lib/coop/a.db", Path("/var/lib/coop/a.db.lock")),
        ("sqlite://", Path("data/coopspider.lock")),
        ("postgresql+psycopg://u@h/db", Path("data/coopspider.lock")),
    ],
)
def test_default_lock_file_sits_next_to_the_database(url: str, lock: Path) -> None:
    assert default_lock_file(url) == lock


def _config(**sites: SiteConfig) -> Config:
    configured = Sites(profiles={}, sites=dict(sites))
    return Config(run=RunConfig(timeout=600), resolve_sites=lambda: configured)


def test_select_sites() -> None:
    a, b = SiteConfig("a", base_url="http://a/"), SiteConfig("b", base_url="http://b/")
    assert select_sites(_config(), None, None) == [SiteConfig("thaibinh")]
    assert select_sites(_config(), None, "http://127.0.0.1:8/") == [
        SiteConfig("127.0.0.1", base_url="http://127.0.0.1:8/")
    ]
    assert select_sites(_config(a=a, b=b), None, None) == [a, b]
    assert select_sites(_config(a=a, b=b), "b", None) == [b]
    assert select_sites(_config(a=a, b=b), "b", "https://mirror/") == [
        SiteConfig("b", base_url="https://mirror/")
    ]
    assert select_sites(_config(a=a), "new", "http://new/") == [
        SiteConfig("new", base_url="http://new/")
    ]
    with pytest.raises(ValueError, match="must start with http"):
        select_sites(_config(a=a), "a", "a.example.org")


def test_crawl_command_carries_the_site_settings() -> None:
    site = SiteConfig(
        "kontum",
        base_url="http://kontum/",
        categories=("tin-tuc",),
        skip_categories=("gioi-thieu", "lien-he"),
        revisit_days=7,
        date_order="MDY",
    )
    context = RunContext(
        config=Config(
            run=RunConfig(timeout=600),
            site_tables={"kontum": {"categories": ["tin-tuc"], "date_order": "MDY"}},
        ),
        database_url="sqlite:///x.db",
        sites=[site],
        full=True,
        scrapy_settings={"DOWNLOAD_DELAY": "5"},
    )
    command = crawl_command(context, site)
    # The database (and any password in its URL) goes by environment, out of `ps` and the log.
    assert not [part for part in command if "x.db" in part]
    assert command[:5] == [sys.executable, "-m", "scrapy", "crawl", "lienminh"]
    pairs = list(zip(command[5::2], command[6::2], strict=True))
    assert pairs == [
        ("-a", "site=kontum"),
        ("-a", "base_url=http://kontum/"),
        ("-a", "revisit_days=7"),
        ("-a", "full=1"),
        ("-s", "LOG_LEVEL=INFO"),
        ("-s", "CLOSESPIDER_TIMEOUT=600"),
        ("-s", "WARC_ENABLED=1"),
        ("-s", f"WARC_DIR={context.config.warc.dir}"),
        ("-s", "DOWNLOAD_DELAY=5"),
    ]
    # The site tables (a base URL in them may hold a login) go by environment too.
    env = crawl_environment(context)
    assert env["COOPSPIDER_SITE_TABLES"] == (
        '{"kontum": {"categories": ["tin-tuc"], "date_order": "MDY"}}'
    )
    assert env["COOPSPIDER_DATABASE_URL"] == "sqlite:///x.db"


@dataclass
class _Run:
    status: str = "finished"
    finish_reason: str | None = "finished"
    stats: dict | None = None


@pytest.mark.parametrize(
    ("returncode", "run", "failure"),
    [
        (0, _Run(stats={"coopspider/counters/stored": 1}), None),
        (None, None, "killed after 12 s (run.timeout exceeded)"),
        (1, None, "scrapy exited with status 1"),
        (0, None, "the crawl did not start (no run recorded; see the log)"),
        (0, _Run("failed", "shutdown"), "the crawl did not finish (shutdown)"),
        (0, _Run("running", None), "the crawl did not finish (running)"),
        (0, _Run("failed", "home_page_unread"), "the home page could not be read"),
        (
            0,
            _Run(
                "failed",
                "home_page_unread",
                {"coopspider/fetch_failed/dns": 1, "coopspider/fetch_failed/http_503": 1},
            ),
            "the home page could not be read: dns, HTTP 503",
        ),
    ],
)
def test_judge_crawl(returncode: int | None, run: _Run | None, failure: str | None) -> None:
    assert judge_crawl(returncode, run, 12.2) == failure


class _Step:
    def __init__(self, name: str, code: int, ok: bool | None) -> None:
        self.name, self.failure_code, self.ok, self.ran = name, code, ok, False

    def run(self, context: RunContext) -> StepOutcome:
        self.ran = True
        if self.ok is None:
            raise RuntimeError("boom")
        return StepOutcome(self.ok, [f"{self.name} {'ok' if self.ok else 'failed'}"])


def test_every_step_runs_and_the_first_failure_sets_the_code() -> None:
    context = RunContext(config=_config(), database_url="sqlite://", sites=[])
    steps = [_Step("crawl", 4, False), _Step("diff", 1, None), _Step("alert", 3, False)]
    code, lines = run_cycle(context, steps)
    assert code == 4 and all(step.ran for step in steps)
    assert lines == ["crawl failed", "diff step failed: boom", "alert failed"]
    assert run_cycle(context, [_Step("crawl", 4, True)]) == (EXIT_OK, ["crawl ok"])


@pytest.mark.slow
def test_the_cycle_crawls_diffs_and_alerts_each_change_once(tmp_path: Path) -> None:
    from tests.helpers import fresh_article
    from tests.smtpserver import smtp_server

    site = build_site()
    with serve(site) as server, smtp_server() as mailbox:
        smtp = (
            f'[smtp]\nhost = "127.0.0.1"\nport = {mailbox.port}\n\n'
            '[alerts]\nfrom = "bot@example.org"\nto = ["tin@example.org"]\n\n'
        )
        write_config(tmp_path, {"sample": server.base_url})
        config = tmp_path / "coopspider.toml"
        config.write_text(smtp + config.read_text(encoding="utf-8"), encoding="utf-8")

        code, out, err = finish(start_run(tmp_path))
        assert code == EXIT_OK, err[-3000:]
        assert f"sample: first crawl, {len(site.articles)} articles archived" in out
        assert "alert: sent to tin@example.org" in out
        assert len(mailbox.received) == 1
        assert "bắt đầu theo dõi" in mailbox.received[0].message["Subject"]

        site.articles.append(fresh_article(site, "9100", "Hợp tác xã Đông Quý ra mắt"))
        site.counter_total += 100
        code, out, err = finish(start_run(tmp_path))
        assert code == EXIT_OK, err[-3000:]
        assert "sample: 1 new, 0 edited, 0 removed, 0 restored articles" in out
        assert len(mailbox.received) == 2
        assert "Hợp tác xã Đông Quý ra mắt" in mailbox.received[1].text

        site.counter_total += 100  # visitors keep coming: no frozen-counter anomaly
        code, out, err = finish(start_run(tmp_path))
        assert code == EXIT_OK and "alert: nothing new to send" in out, err[-3000:]
        assert len(mailbox.received) == 2

    # The SMTP server is gone: the run says so with its own exit code and keeps the change.
    with serve(site) as server:
        write_config(tmp_path, {"sample": server.base_url})
        config.write_text(
            smtp.replace(str(mailbox.port), str(free_port())) + config.read_text("utf-8"),
            encoding="utf-8",
        )
        site.articles.append(fresh_article(site, "9101", "Bài chờ gửi"))
        code, out, err = finish(start_run(tmp_path))
        assert code == EXIT_ALERTS_NOT_SENT, err[-3000:]
        assert "alert: NOT sent" in out and "the changes go with the next run" in out


@pytest.mark.slow
def test_without_recipients_the_cycle_prints_the_digest(tmp_path: Path) -> None:
    site = build_site()
    with serve(site) as server:
        write_config(tmp_path, {"sample": server.base_url})
        code, out, err = finish(start_run(tmp_path))
    assert code == EXIT_OK, err[-3000:]
    assert "bắt đầu theo dõi" in out  # the digest itself, on stdout
    assert "alert: no recipients configured, the digest is above" in out
