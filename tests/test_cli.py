"""The `coopspider` command as a user runs it: in a child process, on real files and servers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coopspider.sample_site import build_site, serve
from tests.conftest import ROOT
from tests.faultserver import FaultServer, body, status
from tests.helpers import PAGES, coopspider


@pytest.mark.parametrize("command", [[], ["crawl"], ["extract"], ["export"], ["sample-site"]])
@pytest.mark.slow
def test_every_command_has_help(command: list[str]) -> None:
    done = coopspider(*command, "--help")
    assert done.returncode == 0 and "usage: coopspider" in done.stdout


@pytest.mark.slow
def test_extract_saved_page_prints_fields_as_json() -> None:
    page = PAGES / "thaibinh-seed-hoi-nghi-so-ket.html"
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    done = coopspider("extract", str(page), "--url", expected["url"])
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert fields["title"] == expected["title"]
    assert fields["published_at"] == expected["published_at"]
    assert fields["counter"] == expected["counter"]
    assert fields["article_id"] and set(fields) >= {"body", "images", "author", "summary"}


@pytest.mark.slow
def test_extract_live_url_from_sample_site() -> None:
    site = build_site()
    article = site.articles[0]
    with serve(site) as server:
        url = server.base_url.rstrip("/") + article.path
        before = datetime.now(UTC)
        done = coopspider("extract", url, "--site", "thaibinh")
        after = datetime.now(UTC)
        # 127.0.0.1 is no profile's host: no site, and no URL grammar guessed for it.
        unknown = coopspider("extract", url)
        explained = coopspider("extract", url, "--explain")
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert fields["title"] == article.title and fields["article_id"] == article.article_id
    assert fields["site"] == "thaibinh" and fields["category"] == article.path.split("/")[1]
    fetched_at = datetime.fromisoformat(fields["fetched_at"])
    assert fields["fetched_at"].endswith("+07:00")
    assert before.replace(microsecond=0) <= fetched_at <= after
    assert list(fields)[:4] == ["url", "site", "article_id", "category"]

    assert unknown.returncode == 0, unknown.stderr
    fields = json.loads(unknown.stdout)
    assert fields["title"] == article.title and fields["fetched_at"]
    assert fields["site"] is fields["article_id"] is fields["category"] is None
    assert explained.returncode == 0, explained.stderr
    grammar = [line for line in explained.stdout.splitlines() if line.startswith("url grammar")]
    assert grammar == [
        "url grammar   (none: no site profile for 127.0.0.1; --site NAME reads it as one)"
    ]


@pytest.mark.slow
def test_extract_saved_page_has_no_fetch_time() -> None:
    page = PAGES / "thaibinh-seed-hoi-nghi-so-ket.html"
    done = coopspider("extract", str(page))
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert fields["fetched_at"] is None and fields["site"] is None


@pytest.mark.slow
def test_extract_exit_1_for_a_page_it_could_not_read() -> None:
    site = build_site()
    with FaultServer(site) as server:
        base = server.base_url.rstrip("/")
        server.faults["/trang-trong.html"] = body(b"<html><body><p>Trang</p></body></html>")
        server.faults["/loi.html"] = status(503)
        not_article = coopspider("extract", base + "/trang-trong.html")
        missing = coopspider("extract", base + "/khong-co-1.html")
        failing = coopspider("extract", base + "/loi.html")
    refused = coopspider("extract", base + "/tin-tuc/bai-1.html")  # the server is gone
    for done in (not_article, missing, failing, refused):
        assert done.returncode == 1, done.stderr
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert "not read as an article (no title and no body)" in not_article.stderr
    assert json.loads(not_article.stdout)["body"] == ""
    assert missing.stderr.startswith(f"coopspider: error: cannot fetch {base}/khong-co-1.html: ")
    assert "HTTP 404" in missing.stderr and "HTTP 503" in failing.stderr
    assert "refused" in refused.stderr.lower() and refused.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    "source",
    ["no/such/page.html", "http://", "http://127.0.0.1:99999/a.html", "http://[::1/a.html",
     "http://exa mple.org/a.html", "ftp://example.org/a.html"],
)  # fmt: skip
def test_extract_bad_input_is_exit_2(source: str) -> None:
    done = coopspider("extract", source)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert "not a valid URL" in done.stderr or "no such file" in done.stderr


@pytest.mark.slow
def test_crawl_sample_then_export(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    crawled = coopspider("crawl", "--sample", env=env, cwd=tmp_path)
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    total = len(build_site().articles)
    assert f"The archive holds {total} articles" in crawled.stdout

    lines = coopspider("export", env=env, cwd=tmp_path).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == total and all(row["title"] and row["body"] for row in rows)

    as_csv = coopspider("export", "--format", "csv", env=env, cwd=tmp_path).stdout
    table = list(csv.DictReader(io.StringIO(as_csv)))
    assert [r["article_id"] for r in table] == [r["article_id"] for r in rows]
    assert json.loads(table[0]["images"]) == rows[0]["images"]


@pytest.mark.parametrize(
    ("options", "listing", "hint"),
    [([], "tin-tuc-su-kien-3092.html", "-a site=sample -a profile=thaibinh -a base_url="),
     (["--grammar", "caobang"], "vi/news/tin-tuc-su-kien/",
      "-a site=sample -a profile=caobang -a base_url="),
     # A grammar no site profile knows: query-string pages, and `discover` to learn them.
     (["--grammar", "php-onepath"], "news.php?p=2&cat=3092", "coopspider discover ")],
)  # fmt: skip
def test_sample_site_command_serves_and_prints_its_url(
    options: list[str], listing: str, hint: str
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "coopspider.cli", "sample-site", "--port", "0", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        for path in ("", listing):
            with urllib.request.urlopen(url + path, timeout=10) as response:
                assert "Thống kê truy cập" in response.read().decode("utf-8")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"{hint}{url}" in process.stderr.read()


@pytest.mark.slow
def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": "nosuchdb://x"}
    done = coopspider("export", env=env, cwd=tmp_path)
    assert done.returncode == 2 and "cannot open the database" in done.stderr
    assert "Traceback" not in done.stderr
