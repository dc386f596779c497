"""Progress shows on a terminal and nowhere else."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys

import pytest

from coopspider.progress import Progress
from storage import open_database, start_run, store_articles
from tests.conftest import ROOT
from tests.helpers import T0, item


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with Progress("pages", total=3, stream=stream) as progress:
            for _ in range(3):
                progress.advance()
    assert terminal.getvalue().endswith("\rpages: 3/3\x1b[K\n")
    assert pipe.getvalue() == ""


@pytest.mark.slow
def test_export_shows_progress_on_a_terminal_and_keeps_stdout_clean(database_url: str) -> None:
    url = database_url
    database = open_database(url)
    with database.begin() as session:
        run = start_run(session, site="thaibinh", spider="p", base_url="http://x/", started_at=T0)
        for number in range(5):
            store_articles(session, [item(str(number), f"Bài {number}", T0.isoformat())], run)
    database.close()

    done, shown = run_on_terminal(["export"], {"COOPSPIDER_DATABASE_URL": url})
    assert done.returncode == 0
    assert len(done.stdout.decode("utf-8").splitlines()) == 5
    assert "exported articles: 5" in shown


@pytest.mark.slow
def test_crawl_shows_progress_on_a_terminal(database_url: str) -> None:
    url = database_url
    done, shown = run_on_terminal(["crawl", "--sample"], {"COOPSPIDER_DATABASE_URL": url})
    assert done.returncode == 0, shown[-2000:]
    last = shown.replace("\r\n", "\n").split("\r")[-1]
    assert re.match(r"crawl: \d+ pages fetched, 24 new and 0 edited articles", last), last
    assert "crawl:" not in done.stdout.decode("utf-8")


def run_on_terminal(
    arguments: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run `coopspider ARGUMENTS` with stderr on a pseudo-terminal; return what it showed."""
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "coopspider.cli", *arguments],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=300,
        )
        os.close(terminal)
        shown = b""
        while chunk := _read(controller):
            shown += chunk
    finally:
        os.close(controller)
    return done, shown.decode("utf-8", errors="replace")


def _read(descriptor: int) -> bytes:
    try:
        return os.read(descriptor, 65536)
    except OSError:  # Linux reports the closed terminal as EIO once it is drained
        return b""
