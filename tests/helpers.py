"""Helpers several test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coopspider.sample_site import SampleArticle, SampleSite

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "pages"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
T0 = dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.UTC)
TRICKY_BODY = 'Dòng "một", có dấu phẩy;\n\nDòng hai\r\nvới CRLF, tab\tvà = + - @ đầu ô.'
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
# `coopspider run` with politeness off: the sites are ours, on loopback.
RUN_FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "--log-level", "WARNING"]


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


# The test session's WARC folder (conftest sets it): crawls write there, not into the checkout.
WARC_DIR_ENV = "COOPSPIDER_WARC_DIR"


def clean_env() -> dict[str, str]:
    """The environment without the user's COOPSPIDER_* settings, but the test session's WARC
    folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPSPIDER_")}
    if WARC_DIR_ENV in os.environ:
        env[WARC_DIR_ENV] = os.environ[WARC_DIR_ENV]
    return env


def free_port() -> int:
    """A loopback port nothing listens on: a test server may take it, and connecting to it
    meanwhile is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def expected_item(article: SampleArticle, base_url: str) -> dict[str, Any]:
    """The fields the spider should extract from a sample-site article served at `base_url`."""
    return {
        "title": article.title,
        "published_at": f"{article.date.isoformat()}T00:00:00+07:00",
        "author": article.author,
        "body": "\n\n".join(article.paragraphs),
        "images": [
            {"url": base_url.rstrip("/") + path, "caption": caption}
            for path, caption in article.images
        ],
    }


def item(article_id: str, title: str, fetched_at: str, **extra: object) -> dict:
    """An article item whose body and caption hold CSV-awkward text (quotes, CRLF, tab, formula
    starts)."""
    return {
        "url": f"http://lienminhhtx.example/tin-tuc-su-kien/bai-{article_id}.html",
        "site": "thaibinh",
        "article_id": article_id,
        "category": "tin-tuc-su-kien",
        "title": title,
        "published_at": "2025-02-27T08:00:00+07:00",
        "published_raw": "27/02/2025",
        "author": None,
        "summary": "Tóm tắt",
        "body": TRICKY_BODY,
        "images": [{"url": "http://x/a.jpg", "caption": 'Ảnh "đẹp", phải'}],
        "fetched_at": fetched_at,
        **extra,
    }


def to_windows_1258(text: str) -> bytes:
    """Encode as windows-1258 does: base letters precomposed, tone marks as combining bytes."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
            tones = "".join(c for c in parts if c in TONE_MARKS)
            out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


def make_article(**changes: Any) -> dict[str, Any]:
    """An ArticleItem as a dict, as the pipelines hand it over."""
    article = {
        "url": "http://lienminhhtx.example/tin-tuc-su-kien/hoi-nghi-1234.html",
        "site": "thaibinh",
        "article_id": "1234",
        "category": "tin-tuc-su-kien",
        "title": "Hội nghị tổng kết năm 2024",
        "published_at": "2022-05-09T00:00:00+07:00",
        "published_raw": "Ngày: 09/05/2022",
        "author": "Thùy Dung",
        "summary": "Sáng ngày 9/5, Liên minh HTX tỉnh tổ chức hội nghị.",
        "body": "Sáng ngày 9/5, Liên minh HTX tỉnh tổ chức hội nghị.\n\nHội nghị đã thành công.",
        "images": [{"url": "http://lienminhhtx.example/a.jpg", "caption": "(Toàn cảnh hội nghị)"}],
        "fetched_at": "2025-03-01T02:00:00+00:00",
    }
    article.update(changes)
    return article


def start_run(workdir: Path, *args: str) -> subprocess.Popen[str]:
    """`coopspider run` in `workdir`, without the user's COOPSPIDER_* settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "coopspider.cli", "run", *RUN_FAST, *args],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str, str]:
    """Wait for `process`: its exit code, stdout and stderr."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def write_config(workdir: Path, sites: dict[str, str], extra: str = "") -> None:
    """A coopspider.toml in `workdir`: the archive under data/, one table per site."""
    tables = "".join(f'[sites.{n}]\nbase_url = "{url}"\n{extra}\n' for n, url in sites.items())
    (workdir / "coopspider.toml").write_text(
        f'[database]\nurl = "sqlite:///data/archive.sqlite3"\n\n{tables}', encoding="utf-8"
    )


class GatedSite:
    """A sample site that holds every request until the test opens the gate: a crawl of it is
    surely still going while the test acts."""

    def __init__(self, site: SampleSite) -> None:
        self.site = site
        self.reached = threading.Event()
        self.gate = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.site, name)  # everything but render is the site's own

    def render(self, path: str, base_url: str | None = None) -> tuple[int, str, bytes]:
        self.reached.set()
        self.gate.wait(120)
        return self.site.render(path, base_url)
