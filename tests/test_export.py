"""`coopspider export`: JSON lines and CSV that round-trip, every version, --since, a BOM."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage import open_database, start_run, store_articles
from tests.conftest import ROOT
from tests.helpers import T0, TRICKY_BODY, item

pytestmark = pytest.mark.slow  # every test here crawls or runs processes


@pytest.fixture
def archive(tmp_path: Path, database_url: str) -> dict[str, str]:
    url = database_url
    database = open_database(url)
    with database.begin() as session:
        run = start_run(session, site="thaibinh", spider="p", base_url="http://x/", started_at=T0)
        articles = [
            item("1", "=SUM(A1) Hợp tác xã", "2025-03-01T02:00:00+00:00"),
            item("2", "Bài hai", "2025-03-01T02:00:00+00:00"),
            item("2", "Bài hai (sửa)", "2025-03-05T02:00:00+00:00", site="thaibinh"),
            item("3", "Bài khác", "2025-03-01T02:00:00+00:00", site="hy"),
        ]
        store_articles(session, articles, run)
    database.close()
    return {**os.environ, "COOPSPIDER_DATABASE_URL": url}


def export(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "coopspider.cli", "export", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )


def as_jsonl(done: subprocess.CompletedProcess[bytes]) -> list[dict]:
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]


# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_csv(done: subprocess.CompletedProcess[bytes]) -> list[dict[str, str]]:
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8-sig"), newline="")))


def test_csv_round_trips_to_the_json_lines(archive: dict[str, str]) -> None:
    rows = as_jsonl(export(archive))
    table = as_csv(export(archive, "--format", "csv"))
    assert len(rows) == len(table) == 3
    for row, cells in zip(rows, table, strict=True):
        assert list(cells) == list(row)
        for name, value in row.items():
            if name == "images":
                assert json.loads(cells[name]) == value
            else:
                expected = "" if value is None else str(value)
                if expected.startswith(FORMULA_STARTS):  # shown as text, never run as a formula
                    expected = "'" + expected
                assert cells[name] == expected, name
    assert {cells["body"] for cells in table} == {TRICKY_BODY}


def test_bom_only_where_asked_and_only_for_csv(archive: dict[str, str]) -> None:
    with_bom = export(archive, "--format", "csv", "--bom")
    assert with_bom.stdout.startswith(b"\xef\xbb\xbfurl,site,")
    assert as_csv(with_bom) == as_csv(export(archive, "--format", "csv"))
    assert not export(archive, "--format", "csv").stdout.startswith(b"\xef\xbb\xbf")
    refused = export(archive, "--bom")
    assert refused.returncode == 2 and b"--bom is for --format csv" in refused.stderr


def test_versions_since_and_site(archive: dict[str, str]) -> None:
    every = as_jsonl(export(archive, "--versions"))
    assert [(r["site"], r["article_id"], r["version"]) for r in every] == [
        ("hy", "3", 1),
        ("thaibinh", "1", 1),
        ("thaibinh", "2", 1),
        ("thaibinh", "2", 2),
    ]
    assert [r["title"] for r in every if r["article_id"] == "2"] == ["Bài hai", "Bài hai (sửa)"]
    # Edited on 5 March (09:00 in Vietnam): new or edited since the 3rd is that version only.
    since = as_jsonl(export(archive, "--since", "2025-03-03"))
    assert [(r["article_id"], r["version"]) for r in since] == [("2", 2)]
    assert as_jsonl(export(archive, "--versions", "--since", "2025-03-05T10:00+07:00")) == []
    csv_versions = as_csv(export(archive, "--format", "csv", "--versions", "--site", "thaibinh"))
    assert [(c["article_id"], c["version"]) for c in csv_versions] == [
        ("1", "1"),
        ("2", "1"),
        ("2", "2"),
    ]


def test_bad_since_is_a_clear_error(archive: dict[str, str]) -> None:
    done = export(archive, "--since", "last tuesday")
    assert done.returncode == 2 and b"--since 'last tuesday'" in done.stderr
    assert b"Traceback" not in done.stderr
