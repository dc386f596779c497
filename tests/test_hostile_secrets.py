"""A login in a site's base URL (`http://user:password@host/`): used, and never shown.

The site behind a real server on 127.0.0.1 answers 401 without the login, so every archived
article proves the login was sent. The password must not appear in `config check`, `sites`, the
output and the Scrapy log of `crawl`, `run` and `scrapy crawl`, the command lines of the crawls
`run` starts (what `ps` shows other users), the archived URLs, nor the `crawl_runs` rows.
"""

from __future__ import annotations

import base64
import gzip
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from coopspider.sample_site import build_site
from tests.conftest import scrapy_crawl
from tests.faultserver import FaultServer, stall
from tests.helpers import RUN_FAST, clean_env, coopspider

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

# Unique per run: the command-line scan sees every process on the machine, other test runs too.
USER, SECRET = "crawler", f"S3cr3t-{secrets.token_hex(6)}"


def with_login(base_url: str) -> str:
    return base_url.replace("http://", f"http://{USER}:{SECRET}@", 1)


def stored_text(database_url: str) -> str:
    """Every stored URL and run record, as one text to search."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            runs = connection.execute(text("SELECT base_url, stats FROM crawl_runs")).all()
            urls = connection.execute(text("SELECT url FROM articles")).all()
            events = connection.execute(text("SELECT details FROM change_events")).all()
    finally:
        engine.dispose()
    return repr(runs + urls + events)


class CommandLines:
    """Collects, while it runs, the command line of every process on the machine that holds
    `secret`: what `ps` would show to any user."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.seen: list[str] = []
        self.scanned = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._scan, daemon=True)

    def _scan(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        line = (entry / "cmdline").read_bytes()
                    except OSError:
                        continue
                    if self.secret in line:
                        self.seen.append(line.replace(b"\0", b" ").decode(errors="replace"))
            self.scanned += 1

    def __enter__(self) -> CommandLines:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_login_in_the_base_url_is_used_and_never_shown(tmp_path: Path, database_url: str) -> None:
    site = build_site(articles=6)
    env = clean_env()
    with FaultServer(site) as server:
        server.login = (USER, SECRET)
        (tmp_path / "coopspider.toml").write_text(
            f'[database]\nurl = "{database_url}"\n\n'
            f'[sites.secret]\nbase_url = "{with_login(server.base_url)}"\n',
            encoding="utf-8",
        )
        checked = coopspider("config", "check", env=env, cwd=tmp_path)
        listed = coopspider("sites", env=env, cwd=tmp_path)

        # `run`: each article is slowed down so the child crawl lives long enough to be seen.
        for path in site.article_paths():
            server.faults[path] = stall(0.1)
        with CommandLines(SECRET) as command_lines:
            ran = subprocess.run(
                [sys.executable, "-m", "coopspider.cli", "run", *RUN_FAST, "--log-level", "DEBUG"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        server.faults.clear()

        crawled = coopspider(
            "--database",
            database_url,
            "crawl",
            "--site",
            "secret-crawl",
            "--base-url",
            with_login(server.base_url),
            "--log-level",
            "DEBUG",
            env=env,
            cwd=tmp_path,
        )
        scrapy = scrapy_crawl(
            with_login(server.base_url),
            database_url,
            tmp_path / "items.jsonl",
            "-a",
            "site=secret-scrapy",
            "-s",
            "LOG_LEVEL=DEBUG",
        )
        exported = coopspider("--database", database_url, "export", env=env, cwd=tmp_path)

    outputs = {
        "config check": checked,
        "sites": listed,
        "run": ran,
        "crawl": crawled,
        "export": exported,
    }
    for name, done in outputs.items():
        assert done.returncode == 0, (name, done.stderr[-3000:])
        assert SECRET not in done.stdout + done.stderr, name
    assert f"base_url: http://{USER}:***@127.0.0.1:{server.port}/" in checked.stdout
    assert f"Crawling secret (http://{USER}:***@127.0.0.1:{server.port}/)" in ran.stdout
    assert f"Crawling http://{USER}:***@127.0.0.1:{server.port}/ into" in crawled.stdout
    assert scrapy.returncode == 0, scrapy.log[-3000:]
    assert SECRET not in scrapy.log and SECRET not in repr(scrapy.items)
    assert "Crawled (200)" in scrapy.log  # the debug log of each request, without the login

    # The login was sent: every article of every crawl was archived.
    assert len(scrapy.articles) == len(site.articles)
    assert f"{len(site.articles)} new" in ran.stdout
    assert f"The archive holds {len(site.articles)} articles of site secret-crawl" in (
        crawled.stdout
    )
    assert len(exported.stdout.splitlines()) == 3 * len(site.articles)

    # Never on a command line other users can read, never in the archive.
    assert command_lines.scanned > 0 and command_lines.seen == []
    stored = stored_text(database_url)
    assert SECRET not in stored and USER not in stored
    assert f"http://127.0.0.1:{server.port}/" in stored
    # Nor in the WARC files of the pages: the request records leave the login header out.
    warc = b"".join(gzip.decompress(file.read_bytes()) for file in (tmp_path / "warc").iterdir())
    basic = base64.b64encode(f"{USER}:{SECRET}".encode())
    assert warc.count(b"WARC-Type: request") == len(site.articles)
    assert SECRET.encode() not in warc and basic not in warc and b"Authorization" not in warc
