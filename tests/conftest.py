"""Shared fixtures: the sample site on 127.0.0.1 and a way to run the real spider on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from coopspider.sample_site import SampleServer, build_site, serve

ROOT = Path(__file__).resolve().parent.parent
# Politeness off: the server is ours, on loopback.
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "LOG_LEVEL=INFO",
]


@dataclass
class CrawlResult:
    """What one `scrapy crawl` run left behind."""

    returncode: int
    items: list[dict[str, Any]]
    log: str

    @property
    def articles(self) -> list[dict[str, Any]]:
        """Article items (not the 304/404 answers about known articles, which carry no body)."""
        return [item for item in self.items if "body" in item]

    @property
    def counters(self) -> list[dict[str, Any]]:
        return [item for item in self.items if "online" in item]


@pytest.fixture
def sample_server() -> Iterator[SampleServer]:
    with serve(build_site()) as server:
        yield server


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.sqlite3'}"


def scrapy_crawl(base_url: str, database_url: str, feed: Path, *extra: str) -> CrawlResult:
    """Run `scrapy crawl lienminh` from the repository root in a child process, as a user would."""
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "lienminh",
        "-a",
        f"base_url={base_url}",
        "-s",
        f"DATABASE_URL={database_url}",
        "-O",
        f"{feed}:jsonl",
        *FAST,
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    items = (
        [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line.strip()]
        if feed.exists()
        else []
    )
    return CrawlResult(done.returncode, items, done.stderr)
