"""Helpers several test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from coopspider.sample_site import SampleArticle, SampleSite
from tests.conftest import ROOT

PAGES = ROOT / "tests" / "pages"
VIETNAM = dt.timezone(dt.timedelta(hours=7))


def wait_until(condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    """Poll `condition` until it is true; fail the test, naming `what`, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def coopspider(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the `coopspider` command in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "coopspider.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def clean_env() -> dict[str, str]:
    """The environment without the user's COOPSPIDER_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COOPSPIDER_")}


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_article(site: SampleSite, article_id: str, title: str) -> SampleArticle:
    """A new article published today in the first category, its text borrowed and marked."""
    model = site.latest()[0]
    return dataclasses.replace(
        model,
        article_id=article_id,
        slug=f"bai-moi-{article_id}",
        categories=[model.categories[0]],
        title=title,
        date=dt.datetime.now(VIETNAM).date(),
        paragraphs=[f"{paragraph} ({title})" for paragraph in model.paragraphs],
        images=[],
    )
