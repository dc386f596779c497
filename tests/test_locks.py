"""The archive's locks: one `coopspider run` at a time across machines sharing a PostgreSQL
archive, and one crawl of a site at a time (storage.locks, used by `run` and the store pipeline)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from coopspider.exitcodes import EXIT_LOCKED, EXIT_OK
from coopspider.sample_site import build_site, serve
from storage import LockHeld, archive_lock, open_database
from storage.models import CrawlRun
from tests.conftest import ROOT, crawl_command, fresh_pg_schema
from tests.helpers import GatedSite, finish, start_run, wait_until

HOLD_A_LOCK = (
    "import sys, time\n"
    "from storage import archive_lock, open_database\n"
    "with open_database(sys.argv[1]) as database, archive_lock(database, sys.argv[2]):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(60)\n"
)


def crawl_runs(database_url: str) -> list[tuple[str, str]]:
    """(site, status) of every recorded crawl run, oldest first."""
    with open_database(database_url) as database, database.session() as session:
        rows = session.execute(select(CrawlRun.site, CrawlRun.status).order_by(CrawlRun.id))
        return [(site, status) for site, status in rows]


@pytest.mark.slow
def test_an_archive_lock_is_exclusive_names_its_holder_and_dies_with_it(db_url: str) -> None:
    with open_database(db_url) as database:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_A_LOCK, db_url, "crawl-sample"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            with pytest.raises(LockHeld) as raised, archive_lock(database, "crawl-sample"):
                pass
            assert raised.value.holder is not None
            assert raised.value.holder.startswith(f"pid {holder.pid}")
            with archive_lock(database, "crawl-other"):
                pass  # another name is another lock
        finally:
            holder.kill()
            holder.wait()

        # Killed, its lock went with it (the server notices the closed connection at once).
        def free() -> bool:
            try:
                with archive_lock(database, "crawl-sample"):
                    return True
            except LockHeld:
                return False

        wait_until(free, "the killed holder's lock to be dropped", timeout=10)


@pytest.fixture
def pg_archive(pg_admin: Engine) -> Iterator[str]:
    with fresh_pg_schema(pg_admin, "test_locks") as url:
        yield url


def configure(workdir: Path, database_url: str, sites: dict[str, str]) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    tables = "".join(f'[sites.{name}]\nbase_url = "{url}"\n' for name, url in sites.items())
    (workdir / "coopspider.toml").write_text(
        f'[database]\nurl = "{database_url}"\n\n{tables}', encoding="utf-8"
    )
    return workdir


@pytest.mark.slow
def test_two_runs_on_one_postgresql_archive_from_two_folders_never_overlap(
    tmp_path: Path, pg_archive: str
) -> None:
    site = build_site()
    gated = GatedSite(site)
    with serve(site) as server:
        server.site = gated  # type: ignore[assignment]
        # Two folders, as two machines would have: no lock file can keep the runs apart.
        first = configure(tmp_path / "one", pg_archive, {"sample": server.base_url})
        second = configure(tmp_path / "two", pg_archive, {"sample": server.base_url})
        winner = start_run(first)
        try:
            wait_until(gated.reached.is_set, "the first run's crawl to reach the site")
            code, out, err = finish(start_run(second))
            assert code == EXIT_LOCKED, err
            assert err.startswith(
                'coopspider: another run holds the lock "coopspider run" of the archive '
                f"(pid {winner.pid} on "
            ), err
            assert err.endswith("; not starting\n") and len(err.splitlines()) == 1
            assert out == ""
            assert winner.poll() is None, "the winner is still held by the gate"
        finally:
            gated.gate.set()
        code, out, err = finish(winner)
        assert code == EXIT_OK, err[-3000:]
        assert crawl_runs(pg_archive) == [("sample", "finished")], "the loser crawled nothing"
        # The lock went with the winner's run: a run from the other folder goes ahead.
        code, out, err = finish(start_run(second))
        assert code == EXIT_OK, err[-3000:]


def start_crawl(base_url: str, database_url: str, feed: Path, site: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        crawl_command(base_url, database_url, feed, "-a", f"site={site}"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_site_is_never_crawled_twice_at_once_and_other_sites_go_ahead(
    tmp_path: Path, database_url: str
) -> None:
    gated_site, other_site = build_site(), build_site()
    gated = GatedSite(gated_site)
    with serve(gated_site) as server, serve(other_site) as other_server:
        server.site = gated  # type: ignore[assignment]
        first = start_crawl(server.base_url, database_url, tmp_path / "first.jsonl", "gated")
        try:
            wait_until(gated.reached.is_set, "the first crawl to reach the site")
            again = start_crawl(server.base_url, database_url, tmp_path / "again.jsonl", "gated")
            code, _, err = finish(again)
            assert code == EXIT_LOCKED, err[-3000:]
            [line] = [line for line in err.splitlines() if line.startswith("coopspider:")]
            assert line.startswith(
                "coopspider: error: another crawl of site gated is running (it holds the lock "
            ), line
            assert "Traceback" not in err
            # `coopspider crawl` runs the same pipeline in its own process: refused the same way.
            done = subprocess.run(
                [sys.executable, "-m", "coopspider.cli", "crawl", "--site", "gated"]
                + ["--base-url", server.base_url, "--database", database_url],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == EXIT_LOCKED, done.stderr[-3000:]
            assert "another crawl of site gated is running" in done.stderr
            # Another site is another lock: its crawl runs to the end meanwhile.
            other = start_crawl(other_server.base_url, database_url, tmp_path / "o.jsonl", "other")
            code, _, err = finish(other)
            assert code == EXIT_OK, err[-3000:]
            assert first.poll() is None, "the first crawl is still held by the gate"
            assert crawl_runs(database_url) == [("gated", "running"), ("other", "finished")]
        finally:
            gated.gate.set()
        code, _, err = finish(first)
    assert code == EXIT_OK, err[-3000:]
    assert crawl_runs(database_url) == [("gated", "finished"), ("other", "finished")]
