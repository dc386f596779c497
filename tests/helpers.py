"""Helpers several test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
import configparser
import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


# -- Scrapyd nodes --------------------------------------------------------------------------------

SCRAPYD_PROJECT = "coopspider"
SCRAPYD_START_TIMEOUT_S = 60


@dataclass
class ScrapydNode:
    """A Scrapyd process on 127.0.0.1 and the folder that holds its eggs, logs and job lists;
    its environment, and nothing else, names the archive."""

    url: str
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    auth: tuple[str, str] | None = None  # Scrapyd's username and password, when it asks

    def headers(self) -> dict[str, str]:
        """The Authorization header of the node's login, if it has one."""
        if self.auth is None:
            return {}
        token = base64.b64encode(":".join(self.auth).encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def get(self, endpoint: str, **query: str) -> dict[str, Any]:
        address = f"{self.url}{endpoint}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(address, headers=self.headers())
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.load(response))

    def post(self, endpoint: str, fields: list[tuple[str, str]], egg: bytes | None = None) -> Any:
        if egg is None:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = multipart(fields, egg)
        request = urllib.request.Request(
            self.url + endpoint, data=body, headers={"Content-Type": content_type, **self.headers()}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert answer.get("status") == "ok", f"{endpoint} refused: {answer}"
        return answer

    def log(self) -> str:
        return self.home.joinpath("process.log").read_text("utf-8", "replace")

    def start(self) -> None:
        """Start Scrapyd (again) in its folder, and wait until it answers."""
        scrapyd = Path(sys.executable).with_name("scrapyd")
        with self.home.joinpath("process.log").open("ab") as output:
            # Its own process group: stopping it stops the jobs it runs too.
            self.process = subprocess.Popen(
                [str(scrapyd)],
                cwd=self.home,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SCRAPYD_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"Scrapyd exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if self.get("daemonstatus.json").get("status") == "ok":
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"Scrapyd did not answer in {SCRAPYD_START_TIMEOUT_S} s:\n{self.log()[-3000:]}")

    def stop(self, how: int = signal.SIGTERM) -> None:
        """Stop Scrapyd and the jobs it runs (SIGKILL: as a machine going down would)."""
        if self.process is not None:
            stop_process_group(self.process, how)
            self.process = None


@contextmanager
def scrapyd_node(
    home: Path,
    database_url: str,
    max_proc: int = 1,
    *,
    conf: Path | None = None,
    password: str | None = None,
) -> Iterator[ScrapydNode]:
    """A running Scrapyd node in `home` whose environment names the archive `database_url`.

    With `conf`, the node's scrapyd.conf is that file moved to 127.0.0.1 and a free port (its
    max_proc, username and the rest kept), and `password` reaches Scrapyd as SCRAPYD_PASSWORD
    in its environment, as the node's systemd unit gives it; the node then logs in with them."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = configparser.ConfigParser()
    if conf is not None:
        settings.read(conf, encoding="utf-8")
    else:
        settings["scrapyd"] = {"eggs_dir": "eggs", "logs_dir": "logs", "dbs_dir": "dbs"}
        settings["scrapyd"].update(items_dir="", max_proc=str(max_proc))
    settings["scrapyd"].update(bind_address="127.0.0.1", http_port=str(port), poll_interval="0.5")
    with home.joinpath("scrapyd.conf").open("w", encoding="utf-8") as file:
        settings.write(file)
    env = {**clean_env(), "COOPSPIDER_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    auth = None
    if password is not None:
        env["SCRAPYD_PASSWORD"] = password
        auth = (settings["scrapyd"]["username"], password)
    node = ScrapydNode(f"http://127.0.0.1:{port}/", home, env, auth=auth)
    try:
        node.start()
        yield node
    finally:
        node.stop()


def multipart(fields: list[tuple[str, str]], egg: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and the egg as the `egg` file (addversion.json)."""
    boundary = "coopspider-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; '
        f'filename="{SCRAPYD_PROJECT}.egg"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + egg
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def stop_process_group(process: subprocess.Popen[bytes], how: int = signal.SIGTERM) -> None:
    """Stop the process and what it started; a group already gone (Scrapyd exited) is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, how)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def scrapyd_deploy(*arguments: str, env: dict[str, str] | None = None) -> str:
    """Run scrapyd-client's `scrapyd-deploy` from the repository root, as a deployer would."""
    deploy = Path(sys.executable).with_name("scrapyd-deploy")
    done = subprocess.run(
        [str(deploy), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"scrapyd-deploy {' '.join(arguments)} failed:\n{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


def build_egg(folder: Path) -> Path:
    """The egg `scrapyd-deploy --build-egg` builds from the repository, in `folder`."""
    egg = folder / f"{SCRAPYD_PROJECT}.egg"
    scrapyd_deploy("--build-egg", str(egg))
    return egg


def add_egg(node: ScrapydNode, egg: Path, version: str = "1") -> None:
    """Deploy `egg` to `node` (addversion.json)."""
    node.post(
        "addversion.json",
        [("project", SCRAPYD_PROJECT), ("version", version)],
        egg=egg.read_bytes(),
    )


def deploy_built_egg(node: ScrapydNode, folder: Path) -> Path:
    """Build the egg with `scrapyd-deploy --build-egg` into `folder` and add it to the node."""
    egg = build_egg(folder)
    add_egg(node, egg)
    return egg
