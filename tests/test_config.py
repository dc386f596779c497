"""The configuration file: parsing, validation, environment overrides, `coopspider config check`."""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

import pytest
from scrapy.settings import Settings

from coopspider import cli
from coopspider.config import (
    ConfigError,
    SiteConfig,
    SmtpConfig,
    effective_database_url,
    key_line,
    load_config,
    site_settings,
)
from coopspider.cycle import RunContext, crawl_command
from coopspider.profiles import load_profiles
from coopspider.spiders.lienminh import LienminhSpider
from storage import open_database
from tests.conftest import ROOT
from tests.helpers import coopspider

FULL = """\
[database]
url = "sqlite:///archive/coop.sqlite3"

[smtp]
host = "smtp.example.org"
port = 465
user = "bot@example.org"
password = "s3cret-Pa55"
security = "ssl"

[alerts]
from = "coopspider <bot@example.org>"
to = ["editor@example.org", "Chị Lan <lan@example.org>"]

[sites.thaibinh]
base_url = "https://lienminhhtx.thaibinh.gov.vn/"
categories = ["tin-tuc-su-kien", "chinh-sach-ho-tro"]
revisit_days = 14
revisit_old_days = 30

[sites.kontum]
profile = "kontum"
base_url = "http://lmhtx.kontum.gov.vn/"
skip_categories = ["gioi-thieu"]
date_order = "MDY"

[run]
timeout = 3600
lock_file = "locks/run.lock"
"""

UNKNOWN_SITE_KEY = (
    "unknown key; expected one of base_url, categories, concurrency, date_order, download_delay, "
    "platform, profile, revisit_days, revisit_old_days, selectors, skip_categories, title, urls"
)


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "coopspider.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path, env or {})
    return raised.value.problems


def test_a_full_file_is_read_into_typed_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), env={})
    assert config.database_url == "sqlite:///archive/coop.sqlite3"
    assert config.smtp == SmtpConfig(
        host="smtp.example.org",
        port=465,
        user="bot@example.org",
        password="s3cret-Pa55",
        security="ssl",
    )
    assert config.alerts.sender == "coopspider <bot@example.org>"
    assert config.alerts.recipients == ("editor@example.org", "Chị Lan <lan@example.org>")
    assert config.sites == {
        "thaibinh": SiteConfig(
            name="thaibinh",
            base_url="https://lienminhhtx.thaibinh.gov.vn/",
            categories=("tin-tuc-su-kien", "chinh-sach-ho-tro"),
            revisit_days=14,
            revisit_old_days=30,
        ),
        "kontum": SiteConfig(
            name="kontum",
            base_url="http://lmhtx.kontum.gov.vn/",
            profile="kontum",
            skip_categories=("gioi-thieu",),
            date_order="MDY",
        ),
    }
    assert config.run.timeout == 3600 and config.run.lock_file == Path("locks/run.lock")
    assert config.warnings == ()
    # The site tables stay available as written, for the site profiles to start from.
    assert config.site_tables["kontum"]["profile"] == "kontum"


def test_no_file_means_defaults_and_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={"COOPSPIDER_ALERT_TO": "a@example.org, b@example.org"})
    assert config.path is None and config.sites == {}
    assert config.alerts.recipients == ("a@example.org", "b@example.org")
    assert config.smtp.security == "none"  # no user: nothing to protect
    assert effective_database_url(config, None) == ("sqlite:///data/coopspider.sqlite3", "default")


def test_the_working_directorys_file_is_read_without_config_option(
    tmp_path: Path, monkeypatch
) -> None:
    write(tmp_path, '[sites.hanoi]\nbase_url = "https://hanoi.example.org/"\n')
    monkeypatch.chdir(tmp_path)
    assert list(load_config(None, env={}).sites) == ["hanoi"]


def test_environment_overrides_the_file_and_says_so(tmp_path: Path) -> None:
    env = {
        "COOPSPIDER_DATABASE_URL": "postgresql+psycopg://coop@db/coop",
        "COOPSPIDER_SMTP_HOST": "mail.internal",
        "COOPSPIDER_SMTP_PORT": "2525",
        "COOPSPIDER_SMTP_USER": "other",
        "COOPSPIDER_SMTP_PASSWORD": "from-env",
        "COOPSPIDER_SMTP_SECURITY": "STARTTLS",
        "COOPSPIDER_ALERT_FROM": "alerts@internal",
        "COOPSPIDER_ALERT_TO": "x@internal",
        "COOPSPIDER_SMTP_UNRELATED": "ignored",
    }
    config = load_config(write(tmp_path, FULL), env=env)
    assert config.database_url == "postgresql+psycopg://coop@db/coop"
    assert config.smtp == SmtpConfig("mail.internal", 2525, "other", "from-env", "starttls")
    assert config.alerts.sender == "alerts@internal"
    assert config.alerts.recipients == ("x@internal",)
    assert config.source_of("smtp.port") == "COOPSPIDER_SMTP_PORT"
    assert config.source_of("run.timeout") == f"{tmp_path / 'coopspider.toml'}:28"
    # --database beats both.
    assert effective_database_url(config, "sqlite:///x.db") == ("sqlite:///x.db", "--database")


def test_smtp_defaults_are_resolved_in_the_model(tmp_path: Path) -> None:
    """The port follows the security mode, the host and the sender have theirs: the model holds
    what sending uses, and says each is a default."""
    plain = load_config(None, env={})
    assert plain.smtp == SmtpConfig(host="localhost", port=25, security="none")
    assert plain.alerts.sender == f"coopspider@{socket.gethostname()}"
    assert [plain.source_of(key) for key in ("smtp.host", "smtp.port", "alerts.from")] == [
        "default",
        "default",
        "default",
    ]
    with_user = load_config(None, env={"COOPSPIDER_SMTP_USER": "u"})
    assert (with_user.smtp.security, with_user.smtp.port) == ("starttls", 587)
    assert load_config(None, env={"COOPSPIDER_SMTP_SECURITY": "SSL"}).smtp.port == 465
    path = write(tmp_path, '[smtp]\nsecurity = "ssl"\nport = 2525\n')
    assert load_config(path, env={}).smtp.port == 2525


@pytest.mark.parametrize(
    ("key", "setting"), [("revisit_days", "REVISIT_DAYS"), ("revisit_old_days", "REVISIT_OLD_DAYS")]
)
def test_revisit_windows_are_judged_alike_by_the_file_the_profiles_and_the_spider(
    tmp_path: Path, key: str, setting: str
) -> None:
    """0 is a window (README: nothing recent revisited; old articles on every crawl), a negative
    number is not: the configuration, the site profiles and the spider's argument agree."""
    config = load_config(write(tmp_path, f"[sites.thaibinh]\n{key} = 0\n"), env={})
    assert getattr(config.sites["thaibinh"], key) == 0
    assert getattr(load_profiles({"thaibinh": {key: 0}})["thaibinh"], key) == 0
    context = RunContext(config, "sqlite:///x.db", list(config.sites.values()))
    assert f"{key}=0" in crawl_command(context, config.sites["thaibinh"])
    assert LienminhSpider(site="thaibinh", **{key: "0"})._arguments[setting] == 0

    path = write(tmp_path, f"[sites.thaibinh]\n{key} = -1\n")
    assert problems(path) == [
        f"{path}:2: sites.thaibinh.{key}: must be a whole number of days >= 0, got -1"
    ]
    refused = f"crawl argument {key}: must be a whole number of days >= 0, got -1"
    with pytest.raises(ValueError, match=refused):
        LienminhSpider(site="thaibinh", **{key: "-1"})
    with pytest.raises(ValueError, match=f"{key}: must be a whole number of days >= 0, got '2.5'"):
        LienminhSpider(site="thaibinh", **{key: "2.5"})


def test_the_model_holds_the_site_profiles_every_command_reads(tmp_path: Path) -> None:
    """The [sites.NAME] tables are applied to the profiles once, by load_config: a command asking
    for the profiles twice gets that one resolved mapping back, not a fresh check."""
    path = write(tmp_path, '[sites.hanoi]\nbase_url = "https://hanoi.example.org"\n')
    config = load_config(path, env={})
    assert config.profiles["hanoi"].base_url == "https://hanoi.example.org/"
    assert config.profiles["thaibinh"] == load_profiles()["thaibinh"]  # the built-ins stay
    args = argparse.Namespace(config=str(path))
    assert cli._profiles(args) is cli._profiles(args) is args.loaded_config.profiles


def test_the_site_tables_are_checked_when_first_used_unless_asked_at_once(
    tmp_path: Path, monkeypatch
) -> None:
    """A command that needs no site (diff, search, export...) does not make the profiles; the
    first use of the sites checks the tables, with the file's lines, once. load_config's
    default, and `config check`, check them with everything else."""
    path = write(tmp_path, '[smtp]\nport = 2525\n\n[sites.hue]\nbase_url = "ftp://hue"\n')
    wrong = f"{path}:5: sites.hue.base_url: must be an http:// or https:// URL, got 'ftp://hue'"
    assert problems(path) == [wrong]
    made = []
    monkeypatch.setattr(
        "coopspider.profiles.load_profiles", lambda tables: made.append(tables) or {}
    )
    config = load_config(path, env={}, check_sites=False)
    assert config.smtp.port == 2525 and made == []
    monkeypatch.undo()
    for _ in range(2):
        with pytest.raises(ConfigError) as raised:
            config.profiles  # noqa: B018
        assert raised.value.problems == [wrong]
    # The command line turns it into the one usage error, when a command needs the sites.
    args = argparse.Namespace(config=str(path))
    with pytest.raises(cli.UserError, match="invalid configuration:\n  .*ftp://hue"):
        cli._profiles(args)
    assert args.loaded_config.smtp.port == 2525


def test_site_settings_are_the_values_the_crawl_uses_with_their_source(tmp_path: Path) -> None:
    """Unset in the site table, a revisit window is the Scrapy setting the spider falls back
    to, a date order the profile's: each shown with the file and line that set it."""
    path = write(tmp_path, FULL)
    config = load_config(path, env={})
    shown = {
        site: {key: (value, source) for key, value, source in site_settings(config, site)}
        for site in config.sites
    }
    scrapy_settings = Settings()
    scrapy_settings.setmodule("coopspider.settings")
    for key, setting in [
        ("revisit_days", "REVISIT_DAYS"),
        ("revisit_old_days", "REVISIT_OLD_DAYS"),
    ]:
        value, source = shown["kontum"][key]
        assert value == str(scrapy_settings.getint(setting))
        assert source_line(source).startswith(f"{setting} = ")
    assert shown["thaibinh"]["revisit_days"] == ("14", f"{path}:18")
    assert shown["kontum"]["date_order"] == ("MDY", f"{path}:25")
    order, source = shown["thaibinh"]["date_order"]
    assert order == "DMY" and source_line(source) == 'date_order = "DMY"'
    assert shown["thaibinh"]["categories"] == ("tin-tuc-su-kien, chinh-sach-ho-tro", f"{path}:17")
    assert shown["thaibinh"]["skip_categories"] == ("none", "default")
    assert shown["kontum"]["profile"] == ("kontum", f"{path}:22")
    assert shown["thaibinh"]["profile"] == ("thaibinh", "default")


def source_line(source: str) -> str:
    """The text of the line a `FILE:LINE` source points at, FILE relative to the project."""
    file, line = source.rsplit(":", 1)
    return (ROOT / file).read_text(encoding="utf-8").splitlines()[int(line) - 1]


def test_an_empty_variable_does_not_override(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), env={"COOPSPIDER_SMTP_HOST": "  "})
    assert config.smtp.host == "smtp.example.org"


def test_security_defaults_to_starttls_when_a_user_logs_in(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[smtp]\nhost = "h"\nuser = "u"\n'), env={})
    assert config.smtp.security == "starttls"


def test_every_problem_is_named_with_line_key_expectation_and_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
[smtp]
host = "smtp.example.org:587"
port = "five"
security = "tls"

[alerts]
to = "editor@example.org"

[sites.thaibinh]
base_url = "lienminhhtx.thaibinh.gov.vn"
categories = ["tin-tuc-su-kien"]
skip_categories = ["tin-tuc-su-kien"]
revisit_days = -3
date_order = "YMD"
profile = 7
revisit = 14

[sites."Hà Nội"]
base_url = "https://hanoi.example.org/"

[smpt]
host = "x"
""",
    )
    found = problems(path)
    at = f"{path}:"
    assert found == [
        f"{at}2: smtp.host: expected a host name such as smtp.example.org (the port goes in "
        "port), got 'smtp.example.org:587'",
        f"{at}3: smtp.port: expected a whole number, got 'five'",
        f"{at}4: smtp.security: expected one of none, starttls, ssl, got 'tls'",
        f"{at}10: sites.thaibinh.base_url: must be an http:// or https:// URL, "
        "got 'lienminhhtx.thaibinh.gov.vn'",
        f"{at}12: sites.thaibinh.skip_categories: tin-tuc-su-kien also listed in categories; "
        "a category is either followed or skipped",
        f"{at}13: sites.thaibinh.revisit_days: must be a whole number of days >= 0, got -3",
        f"{at}14: sites.thaibinh.date_order: must be one of DMY, MDY, got 'YMD'",
        f"{at}15: sites.thaibinh.profile: unknown profile 7; known: camau, caobang, daknong, "
        "kiengiang, kontum, quangtri, thaibinh",
        f"{at}16: sites.thaibinh.revisit: {UNKNOWN_SITE_KEY}",
        f"{at}18: sites.Hà Nội.name: use lower-case letters, digits, '-' and '_'",
        f"{at}21: smpt: unknown section; expected one of: "
        "database, smtp, alerts, report, sites, run, warc, scrapyd",
    ]


def test_a_list_with_one_bad_item_names_the_item(tmp_path: Path) -> None:
    path = write(tmp_path, '[alerts]\nto = ["ok@example.org", "not an address"]\n')
    assert problems(path) == [
        f"{path}:2: alerts.to: expected e-mail addresses such as editor@example.org; "
        "'not an address' is not one"
    ]


def test_invalid_toml_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\nhost = "a"\nport = \n')
    assert problems(path) == [f"{path}:3: invalid TOML: Invalid value (column 8)"]


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, 'smtp = "smtp.example.org"\n')
    assert problems(path) == [f"{path}:1: smtp: expected a table [smtp], got 'smtp.example.org'"]


def test_environment_problems_name_the_variable(tmp_path: Path) -> None:
    found = problems(
        write(tmp_path, FULL),
        env={"COOPSPIDER_SMTP_PORT": "70000", "COOPSPIDER_ALERT_TO": "nobody"},
    )
    assert found == [
        "environment variable COOPSPIDER_SMTP_PORT: expected a port number from 1 to 65535, "
        "got '70000'",
        "environment variable COOPSPIDER_ALERT_TO: expected e-mail addresses such as "
        "editor@example.org; 'nobody' is not one",
    ]


def test_a_login_that_smtplib_cannot_send_is_a_problem_of_the_configuration(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, '[smtp]\nuser = "Người-gửi"\n')
    assert problems(path, env={"COOPSPIDER_SMTP_PASSWORD": "Mật-khẩu"}) == [
        "environment variable COOPSPIDER_SMTP_PASSWORD: expected ASCII characters only "
        "(smtplib sends the login as ASCII)",
        f"{path}:2: smtp.user: expected ASCII characters only (smtplib sends the login as ASCII)",
    ]


def test_a_missing_config_file_named_explicitly_is_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.toml") == [
        f"{tmp_path / 'nope.toml'}: no such configuration file"
    ]


@pytest.mark.parametrize(
    ("text", "mode", "warned"),
    [
        ('[smtp]\npassword = "pw"\n', 0o644, True),
        ('[smtp]\npassword = "pw"\n', 0o640, True),
        ('[smtp]\npassword = "pw"\n', 0o600, False),
        ('[database]\nurl = "postgresql+psycopg://coop:pw@db/coop"\n', 0o604, True),
        ('[database]\nurl = "postgresql+psycopg://coop@db/coop"\n', 0o644, False),
        ('[smtp]\nhost = "h"\n', 0o644, False),
    ],
)
def test_a_password_readable_by_others_is_warned_about(
    tmp_path: Path, text: str, mode: int, warned: bool
) -> None:
    path = write(tmp_path, text, mode)
    warnings = load_config(path, env={}).warnings
    assert bool(warnings) == warned
    if warned:
        assert warnings[0] == (
            f"{path} holds a password and is readable by group or others "
            f"(mode {mode:04o}); run: chmod 600 {path}"
        )


def test_key_line_finds_headers_dotted_keys_and_quoted_names() -> None:
    text = '[smtp]\nhost = "h"\n\n[sites."thai-binh"]\nbase_url = "x"\nrun.timeout = 3\n'
    assert key_line(text, "smtp") == 1
    assert key_line(text, "smtp.host") == 2
    assert key_line(text, "sites.thai-binh.base_url") == 5
    assert key_line(text, "sites.thai-binh.run.timeout") == 6
    assert key_line(text, "smtp.port") is None


# -- the command ----------------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COOPSPIDER_")}
    return {**clean, **extra}


@pytest.mark.slow
def test_config_check_shows_the_effective_configuration_without_secrets(tmp_path: Path) -> None:
    with_db_password = FULL.replace("sqlite:///archive/coop.sqlite3", "postgresql://u:dbPa55@h/d")
    path = write(tmp_path, with_db_password, mode=0o644)
    done = coopspider(
        "config",
        "check",
        "--config",
        str(path),
        env=_env(COOPSPIDER_SMTP_HOST="mail.internal"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "s3cret-Pa55" not in output and "dbPa55" not in output
    lines = done.stdout.splitlines()
    assert lines[0] == f"{path}: valid"
    assert f"database: postgresql://u:***@h/d  ({path}:2)" in lines
    assert "smtp.host: mail.internal  (COOPSPIDER_SMTP_HOST)" in lines
    assert f"smtp.password: ********  ({path}:8)" in lines
    assert f"alerts.to: editor@example.org, Chị Lan <lan@example.org>  ({path}:13)" in lines
    assert f"  categories: tin-tuc-su-kien, chinh-sach-ho-tro  ({path}:17)" in lines
    # Not set for kontum: the window the spider falls back to, not "default".
    assert not any(line.endswith(": default") for line in lines)
    # A PostgreSQL archive: runs take its advisory lock, whatever run.lock_file says.
    assert (
        'run.lock_file: not used: runs take the advisory lock "coopspider run" of the '
        f"PostgreSQL archive  ({path}:2)"
    ) in lines
    assert "locks/run.lock" not in done.stdout
    assert "readable by group or others (mode 0644)" in done.stderr


@pytest.mark.parametrize(
    ("database", "shown"),
    [
        ("sqlite:///archive/coop.sqlite3", "run.lock_file: locks/run.lock  ({path}:29)"),
        (
            "postgresql+psycopg://u@h/d",
            'run.lock_file: not used: runs take the advisory lock "coopspider run" of the '
            "PostgreSQL archive  (--database)",
        ),
    ],
)
def test_config_check_shows_the_run_lock_the_archive_uses(
    database: str, shown: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    """The lock file keeps runs apart on a SQLite archive; on a PostgreSQL one `run` takes the
    archive's advisory lock instead, and config check says so rather than name a file."""
    for name in [name for name in os.environ if name.startswith("COOPSPIDER_")]:
        monkeypatch.delenv(name)
    path = write(tmp_path, FULL)
    assert cli.main(["config", "check", "--config", str(path), "--database", database]) == 0
    assert shown.format(path=path) in capsys.readouterr().out.splitlines()


@pytest.mark.slow
def test_config_check_without_a_file(tmp_path: Path) -> None:
    done = coopspider("config", "check", env=_env(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("No configuration file (coopspider.toml is not in ")
    assert "run.lock_file: data/coopspider.sqlite3.lock  (default)" in done.stdout
    assert "sites: none configured; `coopspider run` crawls thaibinh" in done.stdout


@pytest.mark.slow
def test_config_check_shows_the_smtp_defaults_sending_uses(tmp_path: Path) -> None:
    done = coopspider("config", "check", env=_env(COOPSPIDER_SMTP_USER="bot"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "smtp.host: localhost  (default)" in lines
    assert "smtp.port: 587  (default)" in lines
    assert "smtp.security: starttls  (default)" in lines
    assert f"alerts.from: coopspider@{socket.gethostname()}  (default)" in lines


@pytest.mark.slow
def test_config_check_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\nport = 0\n\n[sites.hue]\nbase_url = "ftp://hue"\n')
    # --config before the command works as well as after it.
    done = coopspider("--config", str(path), "config", "check", env=_env(), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "coopspider: error: invalid configuration:",
        f"  {path}:2: smtp.port: expected a port number from 1 to 65535, got 0",
        f"  {path}:5: sites.hue.base_url: must be an http:// or https:// URL, got 'ftp://hue'",
    ]


@pytest.mark.slow
def test_config_check_lists_site_profile_problems_with_the_rest(tmp_path: Path) -> None:
    """Problems of the site profiles (unknown profile, pattern without its group, a regex or a
    selector that does not compile, a required key missing, one in an inline table) come in
    the same list as the file's other problems, each with its line, all in one run."""
    path = write(
        tmp_path,
        """\
[smtp]
port = "five"

[sites.hungyen]
base_url = "https://hungyen.example.org/"
profile = "joomla"

[sites.hungyen.urls]
article = ['/tin-tuc/(\\d+)\\.html', '/bai/(?P<id>\\d+)']
listing = ['/chuyen-muc/(']

[sites.hungyen.selectors]
title = "h1[["
body = "div.content"

[sites.thaibinh]
selectors = { date = "span[[" }
concurrency = 0
revisit = 3

[sites.bacninh]
profile = "caobang"
""",
    )
    done = coopspider("config", "check", "--config", str(path), env=_env(), cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "", done.stdout
    at = f"  {path}:"
    assert done.stderr.splitlines() == [
        "coopspider: error: invalid configuration:",
        f"{at}2: smtp.port: expected a whole number, got 'five'",
        f"{at}6: sites.hungyen.profile: unknown profile 'joomla'; known: camau, caobang, "
        "daknong, kiengiang, kontum, quangtri, thaibinh",
        f"{at}9: sites.hungyen.urls.article[0]: '/tin-tuc/(\\\\d+)\\\\.html' has no "
        "(?P<id>...) group",
        f"{at}10: sites.hungyen.urls.listing[0]: '/chuyen-muc/(' is not a regex: missing ) at "
        "position 13",
        f"{at}13: sites.hungyen.selectors.title: 'h1[[' is not a valid CSS or XPath selector: "
        "Expected ident or '*', got <DELIM '[' at 3>",
        f"{at}17: sites.thaibinh.selectors.date: 'span[[' is not a valid CSS or XPath selector: "
        "Expected ident or '*', got <DELIM '[' at 5>",
        f"{at}18: sites.thaibinh.concurrency: must be a number >= 1, got 0",
        f"{at}19: sites.thaibinh.revisit: {UNKNOWN_SITE_KEY}",
        f"{at}21: sites.bacninh.base_url: is required for the new site 'bacninh'",
    ]


@pytest.mark.slow
def test_other_commands_use_the_configured_database(tmp_path: Path) -> None:
    """`export` reads the database the configuration names, and fails clearly when it is bad."""
    write(tmp_path, '[database]\nurl = "sqlite:///from-config.sqlite3"\n')
    done = coopspider("export", env=_env(), cwd=tmp_path)  # a reader: it creates nothing
    assert done.returncode == 2, done.stderr
    assert "no archive at sqlite:///from-config.sqlite3: run a crawl first" in done.stderr
    open_database(f"sqlite:///{tmp_path / 'from-config.sqlite3'}").close()
    done = coopspider("export", env=_env(), cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "", done.stderr

    write(tmp_path, "[database]\nurl = 5\n")
    done = coopspider("export", env=_env(), cwd=tmp_path)
    assert done.returncode == 2 and "database.url: expected a string, got 5" in done.stderr


@pytest.mark.parametrize("command", [["config"], ["config", "check"], ["run"]])
@pytest.mark.slow
def test_new_commands_have_help(command: list[str]) -> None:
    done = coopspider(*command, "--help")
    assert done.returncode == 0 and "usage: coopspider" in done.stdout


def test_the_shipped_example_is_valid() -> None:
    config = load_config(ROOT / "coopspider.example.toml", env={})
    assert list(config.sites) == ["thaibinh"] and config.alerts.recipients
