"""The `coopspider` command as a user runs it: in a child process, on real files and servers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from coopspider.sample_site import build_site, serve
from tests.conftest import ROOT

PAGES = ROOT / "tests" / "pages"


def coopspider(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coopspider.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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
        done = coopspider("extract", url)
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert fields["title"] == article.title and fields["article_id"] == article.article_id


@pytest.mark.slow
def test_extract_missing_file_is_a_clear_error() -> None:
    done = coopspider("extract", "no/such/page.html")
    assert done.returncode == 2
    assert "no such file" in done.stderr and "Traceback" not in done.stderr


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
