"""Security: page text is data (never a formula, a command or code); secrets are never logged.

Hostile text is served by a real server on 127.0.0.1 and crawled by the real spider; the database
password test runs the crawl against the real PostgreSQL server.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from coopspider.sample_site import build_site, serve
from tests.conftest import ROOT, fresh_pg_schema, scrapy_crawl
from tests.helpers import coopspider

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

SECRET = "S3cr3t-Pa55word"


def test_hostile_page_text_is_exported_as_data(tmp_path: Path, database_url: str) -> None:
    marker = tmp_path / "pwned"
    site = build_site(articles=6)
    hostile = site.articles[0]
    hostile.title = (
        f'=HYPERLINK("http://evil.example/","Hội nghị") $(touch {marker}) `touch {marker}`'
        " <script>alert(1)</script>"
    )
    hostile.paragraphs[0] = f"+cmd|' /C calc'!A0; touch {marker}; " + hostile.paragraphs[0]
    with serve(site) as server:
        crawled = scrapy_crawl(server.base_url, database_url, tmp_path / "items.jsonl")
    assert crawled.returncode == 0, crawled.log[-3000:]

    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    as_jsonl = coopspider("export", env=env, cwd=tmp_path)
    as_csv = coopspider("export", "--format", "csv", env=env, cwd=tmp_path)
    assert as_jsonl.returncode == as_csv.returncode == 0, as_csv.stderr
    stored = next(
        row
        for row in map(json.loads, as_jsonl.stdout.splitlines())
        if row["article_id"] == hostile.article_id
    )
    # JSON keeps the text exactly: it is never interpreted there.
    assert stored["title"] == hostile.title
    assert stored["body"].startswith("+cmd|")

    # CSV: a cell that a spreadsheet would run as a formula is prefixed with an apostrophe.
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    cells = next(row for row in rows if row["article_id"] == hostile.article_id)
    assert cells["title"] == "'" + hostile.title
    assert cells["body"] == "'" + stored["body"] and cells["summary"].startswith("'+cmd|")
    formula_starts = ("=", "+", "-", "@", "\t", "\r")
    assert not any(value.startswith(formula_starts) for row in rows for value in row.values())

    # Nothing anywhere ran the text as a command.
    assert not marker.exists()


def _runs_a_shell(node: ast.Call) -> str | None:
    name = ast.unparse(node.func)
    if name in ("os.system", "os.popen", "eval", "exec") or name.startswith("os.exec"):
        return name
    shell = any(
        keyword.arg == "shell"
        and not (isinstance(keyword.value, ast.Constant) and not keyword.value.value)
        for keyword in node.keywords
    )
    return f"{name}(shell=...)" if shell else None


def test_no_code_path_hands_text_to_a_shell_or_an_interpreter() -> None:
    found = []
    for package in ("coopspider", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and (call := _runs_a_shell(node)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {call}")
    assert found == []


@pytest.fixture
def postgres_url_with_password(pg_admin: Engine) -> str:
    """A URL to a fresh PostgreSQL schema carrying a password (trust auth ignores it)."""
    with fresh_pg_schema(pg_admin, "test_secret") as url:
        yield make_url(url).set(password=SECRET).render_as_string(hide_password=False)


def test_database_password_never_reaches_logs_output_or_the_archive(
    tmp_path: Path, postgres_url_with_password: str
) -> None:
    url = postgres_url_with_password
    with serve(build_site(articles=6)) as server:
        crawled = scrapy_crawl(
            server.base_url, url, tmp_path / "items.jsonl", "-s", "LOG_LEVEL=DEBUG"
        )
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": url}
    summary = coopspider("crawl", "--sample", "--log-level", "DEBUG", env=env, cwd=tmp_path)
    assert crawled.returncode == 0 and summary.returncode == 0, summary.stderr[-3000:]
    assert SECRET not in crawled.log
    assert SECRET not in summary.stdout + summary.stderr
    assert "***" in summary.stdout  # the URL is shown, its password hidden

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT stats, finish_reason FROM crawl_runs")).all()
    finally:
        engine.dispose()
    assert len(stored) == 2 and SECRET not in repr(stored)

    # A database that refuses the connection: the error names it without the password.
    unreachable = make_url(url).set(port=1).render_as_string(hide_password=False)
    refused = coopspider("--database", unreachable, "export", env=dict(os.environ), cwd=tmp_path)
    assert refused.returncode == 2 and "cannot open the database" in refused.stderr
    assert SECRET not in refused.stderr
    with serve(build_site(articles=1)) as server:
        failed = scrapy_crawl(server.base_url, unreachable, tmp_path / "none.jsonl")
    assert "Connection refused" in failed.log or "connection" in failed.log.lower()
    assert SECRET not in failed.log
