"""A read-only archive, and search input out of bounds, through the real `coopspider` command.

What must hold: `alert --dry-run` writes nothing, so it works on an archive this user may only
read; a command that must write to such an archive (or cannot even open it) says so in one line
and exits 2: a SQLite file of mode 0444, a folder of mode 0555, a PostgreSQL role with SELECT
rights only. `search` refuses a query longer than its bounds and a `--limit` out of range in one
line (exit 2), and searches a repeated word once.

The archive is made by real crawls of the sample site: a baseline, a crawl that finds a new
article, and a crawl of a site that is down (a failed run the next alert reports). As root,
file modes bind nobody, so the commands run under `setpriv` without the capabilities that let
root read and write past them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from coopspider.sample_site import build_site, serve
from storage.fulltext import MAX_HITS, MAX_QUERY_CHARS, MAX_QUERY_WORDS
from tests.conftest import ROOT, fresh_pg_schema, scrapy_crawl, selected_test_database
from tests.helpers import clean_env, free_port, fresh_article

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

NEW_TITLE = "Hợp tác xã Đông Quý ra mắt sản phẩm mới"
SITE_DOWN = "không đọc được trang chủ"  # the alert's sentence for a crawl of a site that was down
ROOT_POWERS = "-dac_override,-dac_read_search,-fowner"
# A run of one site at a port nothing listens on: it stops before crawling, or its crawl fails.
RUN_ELSEWHERE = ("run", "--site", "x", "--base-url", "http://127.0.0.1:9/")


def fill(database_url: str, workdir: Path) -> None:
    """A baseline crawl, a crawl that finds one new article, a crawl of a site that is down."""
    site = build_site(articles=8)
    with serve(site) as server:
        for number in (1, 2):
            crawled = scrapy_crawl(
                server.base_url, database_url, workdir / f"{number}.jsonl", "-a", "site=sample"
            )
            assert crawled.returncode == 0, crawled.log[-3000:]
            site.articles.append(fresh_article(site, "9001", NEW_TITLE))
    down = scrapy_crawl(
        f"http://127.0.0.1:{free_port()}/",
        database_url,
        workdir / "down.jsonl",
        *("-a", "site=sample", "-s", "RETRY_TIMES=0"),
    )
    assert down.returncode == 0, down.log[-3000:]


@pytest.fixture(scope="module")
def sqlite_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The filled archive as a SQLite file, to copy."""
    folder = tmp_path_factory.mktemp("sqlite-archive")
    path = folder / "archive.sqlite3"
    fill(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="module")
def pg_archive(pg_admin: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The filled archive in a PostgreSQL schema of its own."""
    with fresh_pg_schema(pg_admin, "test_hostile") as url:
        fill(url, tmp_path_factory.mktemp("pg-archive"))
        yield url


@pytest.fixture(scope="module")
def archive_url(request: pytest.FixtureRequest) -> str:
    """The filled archive on the database the suite runs on."""
    if selected_test_database() == "postgresql":
        return request.getfixturevalue("pg_archive")
    return f"sqlite:///{request.getfixturevalue('sqlite_archive')}"


def without_root_powers() -> list[str]:
    """The prefix that runs a command bound by file modes, as any user is."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop root's file capabilities")
    return ["setpriv", "--bounding-set", ROOT_POWERS]


def coopspider(
    database_url: str, *args: str, bound_by_file_modes: bool = False
) -> subprocess.CompletedProcess:
    env = {**clean_env(), "COOPSPIDER_ALERT_TO": "tin@example.org", "COOPSPIDER_SMTP_PORT": "1"}
    prefix = without_root_powers() if bound_by_file_modes else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "coopspider.cli", "--database", database_url, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line_error(done: subprocess.CompletedProcess, *phrases: str) -> None:
    """Exit 2 with one line on stderr holding every phrase, and no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("coopspider: error: ")
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def assert_readers_read(database_url: str, *, bound_by_file_modes: bool = False) -> None:
    """diff, export and search answer from the archive."""
    for command in (["diff", "--json"], ["export"], ["search", "hop tac xa"]):
        done = coopspider(database_url, *command, bound_by_file_modes=bound_by_file_modes)
        assert done.returncode == 0, (command, done.stderr[-3000:])
        assert done.stdout.strip(), command
    assert NEW_TITLE in coopspider(database_url, "export").stdout


def assert_no_alert_written(database_url: str) -> None:
    """No run examined, no issue opened, no batch claimed: what a dry run must not write."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            for table in ("health_checked_runs", "health_issues", "alert_batches"):
                assert connection.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table
    finally:
        engine.dispose()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sqlite_copy(template: Path, folder: Path) -> Path:
    folder.mkdir()
    return Path(shutil.copy(template, folder / template.name))


def test_read_only_sqlite_file_dry_run_reads_writers_say_it_in_one_line(
    sqlite_archive: Path, tmp_path: Path
) -> None:
    archive = sqlite_copy(sqlite_archive, tmp_path / "archive")
    archive.chmod(0o444)
    url = f"sqlite:///{archive}"
    before = digest(archive)

    dry = coopspider(url, "alert", "--dry-run", bound_by_file_modes=True)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert NEW_TITLE in dry.stdout and SITE_DOWN in dry.stdout
    assert dry.stderr == ""
    assert_readers_read(url, bound_by_file_modes=True)

    sent = coopspider(url, "alert", bound_by_file_modes=True)
    one_line_error(sent, f"cannot write to the database {url}", "attempt to write a readonly")
    crawled = coopspider(url, "crawl", "--sample", bound_by_file_modes=True)
    one_line_error(crawled, f"cannot write to the database {url}", "read-only file or folder")
    ran = coopspider(
        url,
        "run",
        "--site",
        "sample",
        "--base-url",
        "http://127.0.0.1:9/",
        bound_by_file_modes=True,
    )
    one_line_error(ran, f"cannot write to the database {url}")

    # Nothing was written: the file is as it was, and readers still read it.
    assert digest(archive) == before
    archive.chmod(0o644)
    assert_no_alert_written(url)


def test_sqlite_archive_in_a_read_only_folder_is_one_line(
    sqlite_archive: Path, tmp_path: Path
) -> None:
    archive = sqlite_copy(sqlite_archive, tmp_path / "archive")
    url = f"sqlite:///{archive}"
    archive.parent.chmod(0o555)
    try:
        # SQLite cannot read a WAL archive where it may not create its shared-memory file.
        for command in (["alert", "--dry-run"], ["alert"], ["diff"], ["crawl", "--sample"]):
            done = coopspider(url, *command, bound_by_file_modes=True)
            one_line_error(done, f"cannot open the database {url}", "read-only file or folder")
        # `run` opens the archive before it takes its lock, so it says the same.
        ran = coopspider(
            url, "run", "--site", "x", "--base-url", "http://127.0.0.1:9/", bound_by_file_modes=True
        )
        one_line_error(ran, f"cannot open the database {url}", "read-only file or folder")
    finally:
        archive.parent.chmod(0o755)


@pytest.fixture
def pg_reader(pg_admin: Engine, pg_archive: str) -> Iterator[str]:
    """The PostgreSQL archive's URL for a new role that may only read it."""
    role = f"coopspider_reader_{uuid.uuid4().hex[:8]}"
    schema = make_url(pg_archive).query["options"].removeprefix("-csearch_path=")
    with pg_admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        connection.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    try:
        yield make_url(pg_archive).set(username=role).render_as_string(hide_password=False)
    finally:
        with pg_admin.begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')


def test_postgresql_role_without_write_rights(pg_reader: str) -> None:
    dry = coopspider(pg_reader, "alert", "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert NEW_TITLE in dry.stdout and SITE_DOWN in dry.stdout
    assert_readers_read(pg_reader)

    for command in (["alert"], ["crawl", "--sample"]):
        refused = coopspider(pg_reader, *command)
        one_line_error(refused, "cannot write to the database", "permission denied for table")
        assert make_url(pg_reader).username in refused.stderr

    assert_no_alert_written(pg_reader)


def test_search_bounds_the_query_and_the_limit_in_one_line(archive_url: str) -> None:
    # The most words a query may have; repeated, they are searched once.
    most = coopspider(archive_url, "search", " ".join(["hop tac xa"] * (MAX_QUERY_WORDS // 3)))
    assert most.returncode == 0, most.stderr[-3000:]
    assert most.stdout and most.stdout == coopspider(archive_url, "search", "hop tac xa").stdout

    too_many = " ".join(f"tu{number}" for number in range(MAX_QUERY_WORDS + 1))
    one_line_error(
        coopspider(archive_url, "search", too_many),
        f"the query has {MAX_QUERY_WORDS + 1} words; search takes at most {MAX_QUERY_WORDS}",
    )
    essay = " ".join(["hợp tác xã"] * 1_334)  # 4,002 words
    one_line_error(coopspider(archive_url, "search", essay), "the query has 4,002 words")
    long_word = "x" * (MAX_QUERY_CHARS + 1)
    one_line_error(
        coopspider(archive_url, "search", long_word),
        f"the query is {MAX_QUERY_CHARS + 1:,} characters long; search takes at most "
        f"{MAX_QUERY_CHARS:,}",
    )
    for limit in ("99999999999999999999", "0", str(MAX_HITS + 1)):
        one_line_error(
            coopspider(archive_url, "search", "hop tac xa", "--limit", limit),
            f"the limit of hits must be from 1 to {MAX_HITS:,}, got {limit}",
        )
    widest = coopspider(archive_url, "search", "hop tac xa", "--limit", str(MAX_HITS))
    assert widest.returncode == 0, widest.stderr[-3000:]
