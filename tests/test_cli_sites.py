"""`coopspider sites`, `extract --explain --site` and `crawl --sample --site`, run as a user runs
them: in child processes, on saved pages and servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coopspider.profiles import builtin_profiles
from coopspider.sample_site import build_site
from tests.helpers import PAGES, coopspider

CAOBANG_PAGE = PAGES / "nukeviet-caobang-trung-khanh.html"


@pytest.mark.parametrize("command", [["sites"], ["extract"], ["sample-site"]])
@pytest.mark.slow
def test_new_options_have_help(command: list[str]) -> None:
    done = coopspider(*command, "--help")
    assert done.returncode == 0 and "usage: coopspider" in done.stdout


def test_sites_lists_every_profile_with_base_url_and_platform() -> None:
    done = coopspider("sites")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["site", "base", "URL", "platform"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(builtin_profiles())
    for name, profile in builtin_profiles().items():
        assert profile.base_url in rows[name] and profile.platform in rows[name]


def _explained(*args: str) -> dict[str, tuple[str, str]]:
    """Field -> (source, detail) from the --explain text."""
    done = coopspider("extract", *args, "--explain")
    assert done.returncode == 0, done.stderr
    found = {}
    for line in done.stdout.splitlines():
        name, _, rest = line.partition(" ")
        if name in ("title", "published_at", "author", "summary", "body", "images", "counter"):
            source, _, detail = rest.strip().partition(" ")
            found[name] = (source, detail.strip())
    assert len(found) == 7, done.stdout
    return found


@pytest.mark.slow
def test_extract_explain_picks_the_profile_of_the_urls_host() -> None:
    url = json.loads(CAOBANG_PAGE.with_suffix(".json").read_text(encoding="utf-8"))["url"]
    explained = _explained(str(CAOBANG_PAGE), "--url", url)
    assert explained["body"] == ("selector", "body = '#news-bodyhtml': 5 paragraphs")
    assert explained["author"] == ("label", "author label 'Tác giả bài viết:'")
    assert explained["title"][0] == "structure" and "og:title" in explained["title"][1]
    assert explained["counter"][0] == "label"


@pytest.mark.slow
def test_extract_explain_with_another_site_uses_that_profile() -> None:
    explained = _explained(str(CAOBANG_PAGE), "--site", "thaibinh")
    assert explained["body"][0] == "structure"


@pytest.mark.slow
def test_extract_unknown_site_is_a_clear_error() -> None:
    done = coopspider("extract", str(CAOBANG_PAGE), "--site", "nosuch")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown site 'nosuch'; known sites: camau, caobang, daknong" in done.stderr


@pytest.mark.slow
def test_crawl_unknown_site_is_a_clear_error(tmp_path: Path) -> None:
    done = coopspider("crawl", "--site", "nosuch", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown site 'nosuch'; known sites:" in done.stderr


@pytest.mark.slow
def test_crawl_sample_in_a_profiles_grammar(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    done = coopspider("crawl", "--sample", "--site", "daknong", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    total = len(build_site(grammar="daknong").articles)
    assert f"The archive holds {total} articles of site sample" in done.stdout
    assert "/category/" not in done.stdout and "/2024/" in done.stdout  # WordPress article URLs
