"""WARC files: a real crawl of the sample site on 127.0.0.1, an edit and a page that starts
answering 404, then the records read back with warcio (digests checked), the archive's pointers
followed, `coopspider evidence` run as a user would, and the switch that turns it off."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from coopspider.config import ConfigError, describe, load_config
from coopspider.sample_site import SampleServer, SampleSite, build_site, serve
from storage import Database, archive_articles, open_database
from storage.models import Article, ArticleVersion, ChangeEvent, WarcRecord
from storage.warc import WarcFiles, machine_name, read_records, warc_date
from tests.conftest import fresh_pg_schema, scrapy_crawl, selected_test_database
from tests.helpers import VIETNAM, clean_env, coopspider, make_article

WARCIO = Path(sys.executable).parent / "warcio"


def recent_site() -> SampleSite:
    """The sample site with its six newest articles published in the last week (re-checked by
    every crawl)."""
    site = build_site(articles=24)
    today = dt.datetime.now(VIETNAM).date()
    for days_ago, article in enumerate(site.latest()[:6], start=1):
        article.date = today - dt.timedelta(days=days_ago)
    return site


def crawl(server: SampleServer, database_url: str, folder: Path, *extra: str) -> None:
    feed = folder / f"items-{len(list(folder.glob('items-*')))}.jsonl"
    result = scrapy_crawl(
        server.base_url, database_url, feed, "-a", "site=sample", "-s", "RETRY_TIMES=0", *extra
    )
    assert result.returncode == 0, result.log[-3000:]


@dataclass
class Crawled:
    database_url: str
    warc_dir: Path
    edited_url: str  # an article edited between the crawls: two versions
    edited_title: str
    gone_url: str  # an article that answered 404 in the second crawl: removed
    folder: Path


@pytest.fixture(scope="module")
def crawled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crawled]:
    """Two crawls into one archive: the first stores every article, the second an edit of one
    and the removal of another (its page answers 404)."""
    folder = tmp_path_factory.mktemp("warc")
    with _archive_url(request, folder) as database_url, serve(recent_site()) as server:
        warc_dir = folder / "warc"
        crawl(server, database_url, folder, "-s", f"WARC_DIR={warc_dir}")
        site = server.site
        edited, gone = site.latest()[1], site.latest()[2]
        edited.title = "Tiêu đề đã sửa sau khi đăng"
        server.statuses[gone.path] = 404
        crawl(server, database_url, folder, "-s", f"WARC_DIR={warc_dir}")
        base = server.base_url.rstrip("/")
        yield Crawled(
            database_url, warc_dir, base + edited.path, edited.title, base + gone.path, folder
        )


def _archive_url(request: pytest.FixtureRequest, folder: Path) -> AbstractContextManager[str]:
    """A new archive for the module: a SQLite file, or a PostgreSQL schema in PostgreSQL mode."""
    if selected_test_database() == "postgresql":
        return fresh_pg_schema(request.getfixturevalue("pg_admin"), "test_warc")
    return nullcontext(f"sqlite:///{folder / 'archive.sqlite3'}")


def _records(data: bytes) -> list[Any]:
    """Every record of WARC bytes, payload read and digests checked (warcio raises on none)."""
    records = []
    for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
        record.payload = record.content_stream().read()
        assert record.digest_checker.passed is not False, record.digest_checker.problems
        records.append(record)
    return records


def _sha1_base32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


@pytest.mark.slow
def test_every_version_and_the_removal_point_at_their_own_valid_records(crawled: Crawled) -> None:
    database = open_database(crawled.database_url)
    with database.session() as session:
        versions = session.execute(select(Article, ArticleVersion).join(ArticleVersion)).all()
        removals = session.scalars(select(ChangeEvent).where(ChangeEvent.kind == "removed")).all()
        rows = session.scalars(select(WarcRecord)).all()
        assert len(versions) == 24 + 1  # every article, and the edit
        assert len(rows) == len(versions) + 1  # and the removal: nothing else was written
        for article, version in versions:
            pointed = version.warc_record
            assert pointed is not None and pointed.article_pk == article.id
            response, request = _records(read_records(crawled.warc_dir, pointed))
            assert response.rec_type == "response" and request.rec_type == "request"
            assert response.rec_headers.get_header("WARC-Target-URI") == article.url
            assert response.rec_headers.get_header("WARC-Date") == warc_date(version.fetched_at)
            assert response.http_headers.get_statuscode() == "200"
            digest = response.rec_headers.get_header("WARC-Payload-Digest")
            assert digest == _sha1_base32(response.payload) == pointed.payload_digest
            assert version.title.encode() in response.payload  # the page of this very version
            concurrent = request.rec_headers.get_header("WARC-Concurrent-To")
            assert concurrent == response.rec_headers.get_header("WARC-Record-ID")
            assert request.http_headers.protocol == "GET"
        edited = [v for a, v in versions if a.url == crawled.edited_url]
        assert [v.title for v in edited][-1] == crawled.edited_title
        (removal,) = removals
        assert removal.details["url"] == crawled.gone_url and removal.warc_record is not None
        response, _ = _records(read_records(crawled.warc_dir, removal.warc_record))
        assert response.http_headers.get_statuscode() == "404"
        assert response.rec_headers.get_header("WARC-Target-URI") == crawled.gone_url
    database.close()


@pytest.mark.slow
def test_warc_files_pass_warcio_check_and_name_their_machine(crawled: Crawled) -> None:
    files = sorted(crawled.warc_dir.glob("*.warc.gz"))
    # Per crawl, the writer process's file, and the crawl's own for the removal.
    assert len(files) == 3
    for file in files:
        assert f"-{machine_name()}-" in file.name
        done = subprocess.run([WARCIO, "check", file], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout
        with open(file, "rb") as stream:
            first = next(iter(ArchiveIterator(stream)))
            assert first.rec_type == "warcinfo"


@pytest.mark.slow
def test_evidence_is_a_standalone_warc_of_every_capture(crawled: Crawled) -> None:
    for url, statuses in [(crawled.edited_url, ["200", "200"]), (crawled.gone_url, ["200", "404"])]:
        out = crawled.folder / f"evidence-{statuses[-1]}.warc.gz"
        done = coopspider(
            "--database",
            crawled.database_url,
            "evidence",
            url,
            "--out",
            str(out),
            "--warc-dir",
            str(crawled.warc_dir),
            env=clean_env(),
        )
        assert done.returncode == 0, done.stderr
        records = _records(out.read_bytes())
        assert [r.rec_type for r in records] == ["warcinfo"] + ["response", "request"] * 2
        responses = [r for r in records if r.rec_type == "response"]
        assert {r.rec_headers.get_header("WARC-Target-URI") for r in responses} == {url}
        assert [r.http_headers.get_statuscode() for r in responses] == statuses
        dates = [r.rec_headers.get_header("WARC-Date") for r in responses]
        assert dates == sorted(dates)
        checked = subprocess.run([WARCIO, "check", out], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout
        assert "removal" in done.stdout if statuses[-1] == "404" else "version 2" in done.stdout
        # ReplayWeb.page's Pages tab: every capture, by its URL and the response's WARC-Date.
        info = records[0].payload.decode()
        metadata = next(line for line in info.splitlines() if line.startswith("json-metadata:"))
        pages = json.loads(metadata.partition(":")[2])["pages"]
        assert [(page["url"], page["timestamp"]) for page in pages] == [
            (url, re.sub(r"\D", "", date)) for date in dates
        ]
        last = "removal" if statuses[-1] == "404" else "version 2"
        assert pages[-1]["title"] == f"HTTP {statuses[-1]}, {last}"


@pytest.mark.slow
def test_evidence_refuses_an_unknown_url_and_a_missing_warc_file(crawled: Crawled) -> None:
    out = crawled.folder / "refused.warc.gz"
    common = ["--database", crawled.database_url, "evidence"]
    unknown = coopspider(*common, crawled.edited_url + "x", "--out", str(out), env=clean_env())
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        f"coopspider: error: no archived article at {crawled.edited_url}x"
    ]
    elsewhere = crawled.folder / "empty"
    elsewhere.mkdir()
    missing = coopspider(
        *common, crawled.gone_url, "--out", str(out), "--warc-dir", str(elsewhere), env=clean_env()
    )
    assert missing.returncode == 2
    (line,) = missing.stderr.strip().splitlines()
    assert f"is not in {elsewhere}" in line and f"written on {machine_name()}" in line
    assert not out.exists() and list(crawled.folder.glob(".*partial")) == []


@pytest.mark.slow
def test_warc_enabled_off_writes_no_file_and_no_pointer(tmp_path: Path, database_url: str) -> None:
    warc_dir = tmp_path / "warc"
    with serve(recent_site()) as server:
        crawl(server, database_url, tmp_path, "-s", f"WARC_DIR={warc_dir}", "-s", "WARC_ENABLED=0")
    assert not warc_dir.exists()
    database = open_database(database_url)
    with database.session() as session:
        assert session.scalars(select(ArticleVersion)).first() is not None
        assert session.scalars(select(WarcRecord)).first() is None
        assert session.scalars(select(ArticleVersion.warc_record_id)).all() == [None] * 24
    database.close()


def _capture(number: int, body: bytes) -> dict[str, Any]:
    return {
        "url": f"http://127.0.0.1:9/tin-tuc/bai-{number}.html",
        "fetched_at": "2026-12-06T01:02:03+00:00",
        "status": 200,
        "request_headers": [
            ("Authorization", "Basic c2VjcmV0"),
            ("Cookie", "a=b"),
            ("Accept", "*/*"),
        ],
        "response_headers": [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "3"),
        ],
        "body": body,
    }


def test_files_roll_at_their_size_limit_and_every_pointer_reads_its_record(tmp_path: Path) -> None:
    warc = WarcFiles(tmp_path, max_bytes=2000)
    bodies = [f"<html><body>Bài {n} {'x' * 50 * n}</body></html>".encode() for n in range(12)]
    pointers = [warc.write(_capture(n, body))[0] for n, body in enumerate(bodies)]
    warc.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) > 1 and {p.file for p in pointers} == {f.name for f in files}
    for n, (pointer, body) in enumerate(zip(pointers, bodies, strict=True)):
        data = (tmp_path / pointer.file).read_bytes()[
            pointer.offset : pointer.offset + pointer.length
        ]
        response, request = _records(data)
        assert response.payload == body
        assert response.rec_headers.get_header("WARC-Target-URI").endswith(f"bai-{n}.html")
        # The body is handed decoded: the headers say so; a login and cookies are not kept.
        headers = dict(response.http_headers.headers)
        assert "Content-Encoding" not in headers and "Transfer-Encoding" not in headers
        assert headers["Content-Length"] == str(len(body))
        assert [name for name, _ in request.http_headers.headers] == ["Host", "Accept"]
        assert response.rec_headers.get_header("WARC-Date") == "2026-12-06T01:02:03Z"
    for file in files:
        with open(file, "rb") as stream:
            assert next(iter(ArchiveIterator(stream))).rec_type == "warcinfo"


def test_a_transaction_that_does_not_commit_leaves_no_pointer_and_a_torn_tail_breaks_none(
    tmp_path: Path, database: Database, run_id: int
) -> None:
    """A crash after the records are written but before the commit leaves whole records nobody
    points at; one in the middle of writing leaves a torn end of file, and the records the
    archive points at still read whole."""
    warc = WarcFiles(tmp_path, max_bytes=10**6)
    article = make_article(capture=_capture(1, b"<html><body>Bai 1</body></html>"))
    with pytest.raises(RuntimeError), database.begin() as session:
        archive_articles(session, [article], run_id, warc=warc)
        warc.sync()
        raise RuntimeError("killed before the commit")
    with database.session() as session:
        assert session.scalars(select(WarcRecord)).all() == []
        assert session.scalars(select(ArticleVersion)).all() == []
    with database.begin() as session:
        archive_articles(session, [article], run_id, warc=warc)
        warc.sync()
    warc.close()
    (file,) = tmp_path.glob("*.warc.gz")
    whole = file.read_bytes()
    file.write_bytes(whole + whole[len(whole) // 2 :][:700])  # a record cut short at the end
    with database.session() as session:
        (version,) = session.scalars(select(ArticleVersion)).all()
        assert version.warc_record is not None and version.warc_record.offset > 0
        response, _ = _records(read_records(tmp_path, version.warc_record))
    assert response.payload == b"<html><body>Bai 1</body></html>"
    done = subprocess.run([WARCIO, "check", file], capture_output=True, text=True)
    assert done.returncode != 0  # the torn end is seen, and nothing points at it


def test_the_configuration_says_where_crawls_write_warc_and_config_check_shows_it(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "coopspider.toml"
    config_file.write_text('[warc]\nenabled = false\ndir = "/srv/warc"\n', encoding="utf-8")
    config = load_config(config_file, env={})
    assert config.warc.crawl_settings() == {"WARC_ENABLED": "0", "WARC_DIR": "/srv/warc"}
    overridden = load_config(
        config_file, env={"COOPSPIDER_WARC_ENABLED": "1", "COOPSPIDER_WARC_DIR": "/mnt/w"}
    )
    assert overridden.warc.crawl_settings() == {"WARC_ENABLED": "1", "WARC_DIR": "/mnt/w"}
    lines = describe(overridden, ("sqlite:///x", "default"), (str(tmp_path / "lock"), "default"))
    assert "warc.enabled: true  (COOPSPIDER_WARC_ENABLED)" in lines
    assert "warc.dir: /mnt/w  (COOPSPIDER_WARC_DIR)" in lines
    assert load_config(None, env={}).warc.crawl_settings()["WARC_DIR"] == "data/warc"
    with pytest.raises(ConfigError, match="COOPSPIDER_WARC_ENABLED: expected true or false"):
        load_config(config_file, env={"COOPSPIDER_WARC_ENABLED": "maybe"})


@pytest.mark.slow
def test_a_warc_folder_that_cannot_be_made_stops_the_crawl_before_it_starts(
    tmp_path: Path, database_url: str
) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    with serve(recent_site()) as server:
        feed = tmp_path / "items.jsonl"
        result = scrapy_crawl(
            server.base_url,
            database_url,
            feed,
            "-a",
            "site=sample",
            "-s",
            f"WARC_DIR={in_the_way}/warc",
        )
        fetched = list(server.requests)
    assert result.returncode == 2
    assert f"coopspider: error: cannot write WARC files to {in_the_way}/warc: " in result.log
    assert "Traceback" not in result.log and fetched == []
