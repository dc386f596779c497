"""A new user's mistakes get one clear line and exit 2, and change nothing: a mistyped archive
path, an unknown site, options after the command, a PostgreSQL schema, role or port that is wrong.

Every command runs in a child process, on real SQLite files and the real PostgreSQL server (the
PostgreSQL tests skip when it does not answer, see tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url

from coopspider.cli import build_parser
from storage import open_database, start_run, upgrade_database
from tests.conftest import ROOT, fresh_pg_schema, scrapy_crawl
from tests.helpers import coopspider as run_coopspider
from tests.helpers import free_port

# Every command that only reads the archive, with the arguments it needs.
READERS = [
    ["export"],
    ["diff"],
    ["history", "http://127.0.0.1:9/tin-tuc/bai-1.html"],
    ["evidence", "http://127.0.0.1:9/tin-tuc/bai-1.html", "--out", "bai-1.warc.gz"],
    ["search", "hop tac xa"],
    ["report", "--out", "report"],
    ["feed", "--out", "feed.atom"],
    ["alert", "--dry-run"],
]


def coopspider(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in a child process, with no archive URL from the environment."""
    environment = {**os.environ, **(env or {})}
    environment.pop("COOPSPIDER_DATABASE_URL", None)
    return run_coopspider(*args, env=environment, cwd=cwd)


def one_line_error(done: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """Exit 2 with one line on stderr holding every phrase, and no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("coopspider: error: "), lines[0]
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


# -- 1. readers never create an archive -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_a_reader_on_a_missing_archive_creates_nothing(command: list[str], tmp_path: Path) -> None:
    url = "sqlite:///typo/archive.sqlite3"  # relative: in the working directory
    done = coopspider("--database", url, *command, cwd=tmp_path)
    one_line_error(done, f"no archive at {url}: run a crawl first")
    assert files_under(tmp_path) == []  # no folder, no file, no report

    (tmp_path / "data").mkdir()
    in_folder = f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}"
    done = coopspider(*command, "--database", in_folder, cwd=tmp_path)
    one_line_error(done, f"no archive at {in_folder}: run a crawl first")
    assert files_under(tmp_path) == [tmp_path / "data"]


@pytest.mark.slow
def test_a_real_alert_on_a_missing_archive_creates_nothing(tmp_path: Path) -> None:
    url = "sqlite:///typo/archive.sqlite3"
    mail = {"COOPSPIDER_SMTP_HOST": "127.0.0.1", "COOPSPIDER_ALERT_TO": "tin@example.org"}
    done = coopspider("alert", "--database", url, cwd=tmp_path, env=mail)
    one_line_error(done, f"no archive at {url}: run a crawl first")
    assert files_under(tmp_path) == []


@pytest.mark.slow
def test_a_reader_on_an_empty_or_outdated_sqlite_archive_changes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    done = coopspider("--database", f"sqlite:///{empty}", "export", cwd=tmp_path)
    one_line_error(done, f"no archive at sqlite:///{empty}: run a crawl first")
    assert empty.stat().st_size == 0 and files_under(tmp_path) == [empty]

    old = tmp_path / "old.sqlite3"
    upgrade_database(f"sqlite:///{old}", "0005")
    before = old.read_bytes()
    done = coopspider("diff", "--database", f"sqlite:///{old}", cwd=tmp_path)
    one_line_error(done, "has schema revision 0005", "run a crawl first (it upgrades the archive)")
    assert old.read_bytes() == before


def schema_relations(admin: Engine, url: str) -> list[str]:
    schema = make_url(url).query["options"].removeprefix("-csearch_path=")
    with admin.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %(schema)s",
            {"schema": schema},
        )
        return [row[0] for row in rows]


@pytest.mark.slow
def test_readers_on_an_empty_postgresql_schema_create_no_table(
    pg_admin: Engine, tmp_path: Path
) -> None:
    with fresh_pg_schema(pg_admin, "test_mistakes") as url:
        for command in READERS:
            done = coopspider(*command, "--database", url, cwd=tmp_path)
            one_line_error(done, "no archive at postgresql+psycopg://", "run a crawl first")
            assert schema_relations(pg_admin, url) == [], command
        assert files_under(tmp_path) == []


# -- 2. an unknown site names the known ones --------------------------------------------------


@pytest.fixture
def archive_of_mysite(tmp_path: Path) -> str:
    """A SQLite archive holding one crawl run, of the site "mysite" that no profile knows."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    database = open_database(url)
    with database.begin() as session:
        start_run(
            session,
            site="mysite",
            spider="lienminh",
            base_url="http://127.0.0.1:9/",
            started_at=datetime.now(UTC),
        )
    database.close()
    return url


@pytest.mark.parametrize(
    "command",
    [
        ["export"],
        ["search", "hop tac xa"],
        ["report", "--out", "r"],
        ["feed", "--out", "f.atom"],
        ["alert", "--dry-run"],
        ["diff"],
    ],
    ids=lambda command: command[0],
)
@pytest.mark.slow
def test_an_unknown_site_of_a_reader_names_the_profiles_and_the_archives_sites(
    command: list[str], archive_of_mysite: str, tmp_path: Path
) -> None:
    done = coopspider("--database", archive_of_mysite, *command, "--site", "nope", cwd=tmp_path)
    line = one_line_error(done, "unknown site 'nope'; known sites: ")
    assert "mysite" in line and "thaibinh" in line and "kontum" in line
    # A site the archive holds, or a profile not crawled yet, is no error.
    known = coopspider("--database", archive_of_mysite, *command, "--site", "mysite", cwd=tmp_path)
    assert "unknown site" not in known.stderr


@pytest.mark.slow
def test_crawl_of_an_unknown_site_files_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    done = coopspider("crawl", "--sample", "--site", "nope", "--database", url, cwd=tmp_path)
    line = one_line_error(done, "unknown site 'nope'; known sites: ", "sample", "thaibinh")
    assert "URL grammar" in line
    done = coopspider("crawl", "--site", "nope", "--database", url, cwd=tmp_path)
    one_line_error(done, "unknown site 'nope'; known sites: camau, caobang")
    assert files_under(tmp_path) == []


@pytest.mark.slow
def test_scrapy_crawl_of_an_unknown_site_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "lienminh", "-a", "site=nope"]
        + ["-s", f"DATABASE_URL={url}", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("coopspider: error: unknown site 'nope'")
    assert "known sites: camau, caobang" in errors[0]
    assert files_under(tmp_path) == []


# -- 3. global options before or after the command -------------------------------------------

# Each command with the arguments it needs: a new command must be added here.
COMMANDS = {
    "crawl": [],
    "extract": ["page.html"],
    "export": [],
    "sample-site": [],
    "sites": [],
    "discover": ["http://127.0.0.1:9/"],
    "alert": [],
    "run": [],
    "config": ["check"],
    "diff": [],
    "history": ["http://127.0.0.1:9/a.html"],
    "evidence": ["http://127.0.0.1:9/a.html", "--out", "a.warc.gz"],
    "search": ["xa"],
    "report": ["--out", "r"],
    "feed": ["--out", "f.atom"],
}


def test_global_options_parse_before_or_after_every_command() -> None:
    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command")
    assert set(commands.choices) == set(COMMANDS)  # type: ignore[arg-type]
    options = ["--config", "c.toml", "--database", "sqlite:///d.sqlite3"]
    for command, arguments in COMMANDS.items():
        for argv in (
            [*options, command, *arguments],
            [command, *arguments, *options],
            [command, *options, *arguments],
        ):
            args = parser.parse_args(argv)
            assert (args.config, args.database) == ("c.toml", "sqlite:///d.sqlite3"), argv
        # Given before only, it is not reset by the command's own copy of the option.
        args = parser.parse_args(["--database", "sqlite:///d.sqlite3", command, *arguments])
        assert args.database == "sqlite:///d.sqlite3" and args.config is None


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [[name, *arguments] for name, arguments in COMMANDS.items() if name != "sample-site"],
    ids=lambda command: command[0],
)
def test_config_after_the_command_is_the_one_read(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<html><title>x</title></html>")
    done = coopspider(*command, "--config", "missing.toml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "missing.toml: no such configuration file" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_database_after_the_command_is_the_one_opened(command: list[str], tmp_path: Path) -> None:
    done = coopspider(*command, "--database", "sqlite:///after.sqlite3", cwd=tmp_path)
    one_line_error(done, "no archive at sqlite:///after.sqlite3")


# -- 5. PostgreSQL problems are one line, exit 2 ----------------------------------------------


def every_command_says(url: str, tmp_path: Path, *phrases: str) -> None:
    """Readers, writers (crawl, run) and `scrapy crawl` all stop with one line, exit 2."""
    config = tmp_path / "run.toml"
    config.write_text(
        '[sites.x]\nbase_url = "http://127.0.0.1:9/"\n[run]\nlock_file = "run.lock"\n'
    )
    mail = {"COOPSPIDER_SMTP_HOST": "127.0.0.1", "COOPSPIDER_ALERT_TO": "tin@example.org"}
    for command in [*READERS, ["alert"], ["crawl", "--sample"], ["run", "--config", str(config)]]:
        done = coopspider(*command, "--database", url, cwd=tmp_path, env=mail)
        one_line_error(done, *phrases)
    crawled = scrapy_crawl("http://127.0.0.1:9/", url, tmp_path / "items.jsonl")
    assert crawled.returncode == 2 and "Traceback" not in crawled.log, crawled.log[-3000:]
    errors = [line for line in crawled.log.splitlines() if line.startswith("coopspider: error")]
    assert len(errors) == 1 and all(phrase in errors[0] for phrase in phrases), crawled.log[-3000:]


@pytest.mark.slow
def test_a_missing_postgresql_schema_says_create_it(pg_admin: Engine, tmp_path: Path) -> None:
    schema = f"missing_{uuid.uuid4().hex[:8]}"
    url = pg_admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    every_command_says(
        url.render_as_string(hide_password=False),
        tmp_path,
        f'schema "{schema}" does not exist: create it first (CREATE SCHEMA "{schema}";)',
    )
    with pg_admin.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT 1 FROM pg_namespace WHERE nspname = %(name)s", {"name": schema}
        )
        assert found.first() is None


@pytest.mark.slow
def test_a_refused_connection_and_an_unknown_role_are_one_line(
    pg_admin: Engine, tmp_path: Path
) -> None:
    refused = pg_admin.url.set(port=free_port()).render_as_string(hide_password=False)
    every_command_says(refused, tmp_path, "cannot open the database", "Connection refused")
    nobody = pg_admin.url.set(username=f"nobody_{uuid.uuid4().hex[:8]}")
    every_command_says(
        nobody.render_as_string(hide_password=False), tmp_path, "role", "does not exist"
    )


@pytest.fixture
def pg_stranger(pg_admin: Engine) -> Iterator[tuple[str, str]]:
    """(an archive's URL for a role with no right at all on it, that role's name)."""
    role = f"coopspider_stranger_{uuid.uuid4().hex[:8]}"
    with fresh_pg_schema(pg_admin, "test_mistakes") as url:
        open_database(url).close()
        with pg_admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        try:
            yield make_url(url).set(username=role).render_as_string(hide_password=False), role
        finally:
            with pg_admin.begin() as connection:
                connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
                connection.exec_driver_sql(f'DROP ROLE "{role}"')


@pytest.mark.slow
def test_a_role_without_rights_is_told_what_to_grant(
    pg_admin: Engine, pg_stranger: tuple[str, str], tmp_path: Path
) -> None:
    url, role = pg_stranger
    schema = make_url(url).query["options"].removeprefix("-csearch_path=")
    every_command_says(url, tmp_path, f'role "{role}" may not use schema "{schema}": GRANT USAGE')
    with pg_admin.begin() as connection:
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    every_command_says(url, tmp_path, "permission denied for table", "GRANT it")
    # Allowed to read only: readers read, and `scrapy crawl` says so in one line too.
    with pg_admin.begin() as connection:
        connection.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    assert coopspider("export", "--database", url, cwd=tmp_path).returncode == 0
    crawled = scrapy_crawl("http://127.0.0.1:9/", url, tmp_path / "items.jsonl")
    assert crawled.returncode == 2 and "Traceback" not in crawled.log, crawled.log[-3000:]
    errors = [line for line in crawled.log.splitlines() if line.startswith("coopspider: error")]
    assert len(errors) == 1 and "cannot write to the database" in errors[0], crawled.log[-3000:]
    assert "permission denied for table crawl_runs" in errors[0]
