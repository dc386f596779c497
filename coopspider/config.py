"""The configuration file `coopspider.toml`, with environment variables overriding it.

One file, read from `--config PATH` or else `coopspider.toml` in the working directory (none is
fine: every setting has a default). Sections, all optional::

    [database]
    url = "sqlite:///data/coopspider.sqlite3"

    [smtp]
    host = "smtp.example.org"
    port = 587
    user = "alerts@example.org"
    password = "..."
    security = "starttls"            # none | starttls | ssl

    [alerts]
    from = "coopspider <alerts@example.org>"
    to = ["editor@example.org"]
    notify = ["tgram://BOT_TOKEN/CHAT_ID", "json://hooks.example.org/coopspider"]  # Apprise URLs

    [report]
    url = "https://example.org/coopspider/"   # where the published report is; chat messages link it

    [sites.thaibinh]
    base_url = "https://lienminhhtx.thaibinh.gov.vn/"
    profile = "thaibinh"             # built-in site profile to start from
    categories = ["tin-tuc-su-kien"] # follow only these categories (default: all)
    skip_categories = ["gioi-thieu"] # never walk these
    revisit_days = 14                # re-check articles published in the last N days
    revisit_old_days = 30            # re-check older articles every N days
    date_order = "DMY"               # DMY | MDY

    [run]
    timeout = 10800                  # seconds one site's crawl may take
    lock_file = "data/coopspider.lock"

    [warc]
    enabled = true                   # keep the pages of new versions and removals as WARC
    dir = "data/warc"                # where (each machine writes its own files)

    [scrapyd]
    nodes = ["http://10.0.0.5:6800"] # `run` crawls as jobs of these Scrapyd nodes

Environment variables win over the file: COOPSPIDER_DATABASE_URL, COOPSPIDER_SMTP_HOST,
COOPSPIDER_SMTP_PORT, COOPSPIDER_SMTP_USER, COOPSPIDER_SMTP_PASSWORD, COOPSPIDER_SMTP_SECURITY,
COOPSPIDER_ALERT_FROM, COOPSPIDER_ALERT_TO (comma-separated), COOPSPIDER_NOTIFY (comma-separated
Apprise URLs), COOPSPIDER_REPORT_URL, COOPSPIDER_WARC_ENABLED (1 or 0), COOPSPIDER_WARC_DIR,
and, only from the environment, COOPSPIDER_SCRAPYD_USERNAME and COOPSPIDER_SCRAPYD_PASSWORD
(the Scrapyd nodes' HTTP login). An empty variable counts as unset.

`load_config` is the one place that reads the file and those variables: it validates them and
resolves every default (the SMTP port of the security mode, the sender coopspider@<host name>),
so the `Config` it returns holds the values the program uses, and `sources` says where each came
from (FILE:LINE, the variable, or "default"). Everything, `config check` included, reads it.

Every problem is reported with the file, the line when it can be found, the key path, what was
expected and what was found; all problems at once, so one edit fixes them all.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from coopspider import settings as crawl_settings
from coopspider.urls import split_login

if TYPE_CHECKING:
    from coopspider.profiles import SiteProfile

CONFIG_FILE_NAME = "coopspider.toml"
DEFAULT_SITE = "thaibinh"
DEFAULT_CRAWL_TIMEOUT_S = 3 * 3600
SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_SMTP_HOST = "localhost"
DEFAULT_SMTP_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT = "default"  # the source of a setting neither the file nor the environment gives
MASK = "********"

SECTIONS = ("database", "smtp", "alerts", "report", "sites", "run", "warc", "scrapyd")
# The crawl's own default (coopspider/settings.py), which `scrapy crawl` and Scrapyd jobs use too.
DEFAULT_WARC_DIR = Path(crawl_settings.WARC_DIR)
# What a `[sites.NAME]` table sets that `SiteConfig` holds (coopspider.profiles checks them all).
_SITE_SETTINGS = (
    "base_url",
    "categories",
    "skip_categories",
    "revisit_days",
    "revisit_old_days",
    "date_order",
)

# Environment variable -> the key path it overrides in the file.
ENV_OVERRIDES = {
    "COOPSPIDER_DATABASE_URL": "database.url",
    "COOPSPIDER_SMTP_HOST": "smtp.host",
    "COOPSPIDER_SMTP_PORT": "smtp.port",
    "COOPSPIDER_SMTP_USER": "smtp.user",
    "COOPSPIDER_SMTP_PASSWORD": "smtp.password",
    "COOPSPIDER_SMTP_SECURITY": "smtp.security",
    "COOPSPIDER_ALERT_FROM": "alerts.from",
    "COOPSPIDER_ALERT_TO": "alerts.to",
    "COOPSPIDER_NOTIFY": "alerts.notify",
    "COOPSPIDER_REPORT_URL": "report.url",
    "COOPSPIDER_WARC_ENABLED": "warc.enabled",
    "COOPSPIDER_WARC_DIR": "warc.dir",
    "COOPSPIDER_SCRAPYD_USERNAME": "scrapyd.username",
    "COOPSPIDER_SCRAPYD_PASSWORD": "scrapyd.password",
}


class ConfigError(Exception):
    """The configuration is invalid; `problems` holds one precise line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SiteConfig:
    """One `[sites.NAME]` table; None means "not set here" (the profile or spider decides)."""

    name: str
    base_url: str | None = None
    profile: str | None = None
    categories: tuple[str, ...] = ()  # empty: follow every category
    skip_categories: tuple[str, ...] = ()
    revisit_days: int | None = None
    revisit_old_days: int | None = None
    date_order: str | None = None


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the mail server, defaults applied: what sending uses."""

    host: str = DEFAULT_SMTP_HOST
    port: int = DEFAULT_SMTP_PORTS["none"]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    security: str = "none"


def default_sender() -> str:
    """The sender when none is configured: coopspider at this machine."""
    return f"coopspider@{socket.gethostname()}"


@dataclass(frozen=True)
class NotifyTarget:
    """One Apprise URL alerts also go to (a chat, a webhook). The URL holds tokens: only `shown`
    (its secrets masked) and `key` (derived from `shown`) ever reach a log, a line or the
    database."""

    url: str = field(repr=False)
    shown: str  # the URL with its secrets masked, without Apprise's default options
    key: str  # the channel's name in the outbox: "apprise:" and a digest of the masked URL
    secrets: tuple[str, ...] = field(default=(), repr=False)  # the parts of `url` to mask

    def mask(self, text: str) -> str:
        """`text` with every secret of the URL replaced by ***."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


@dataclass(frozen=True)
class AlertsConfig:
    """Who the alert digest comes from and goes to: e-mail recipients and Apprise channels
    (neither: it is printed instead)."""

    sender: str = field(default_factory=default_sender)
    recipients: tuple[str, ...] = ()
    notify: tuple[NotifyTarget, ...] = ()


@dataclass(frozen=True)
class RunConfig:
    """Settings of `coopspider run`; `lock_file` None means next to the database."""

    timeout: float = DEFAULT_CRAWL_TIMEOUT_S
    lock_file: Path | None = None


@dataclass(frozen=True)
class WarcConfig:
    """Whether crawls keep WARC files of the pages behind versions and removals, and where."""

    enabled: bool = True
    dir: Path = DEFAULT_WARC_DIR

    def crawl_settings(self) -> dict[str, str]:
        """The Scrapy settings that tell a crawl (WARC_ENABLED, WARC_DIR)."""
        return {"WARC_ENABLED": "1" if self.enabled else "0", "WARC_DIR": str(self.dir)}


@dataclass(frozen=True)
class ScrapydConfig:
    """The Scrapyd nodes `run` hands its crawls to (none: it crawls here) and their HTTP login
    (Scrapyd's `username`/`password`), which only the environment gives."""

    nodes: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Config:
    """The effective configuration: defaults, then the file, then the environment."""

    path: Path | None = None  # the file read, None when there was none
    database_url: str | None = None  # None: the command line or the built-in default decides
    smtp: SmtpConfig = SmtpConfig()
    alerts: AlertsConfig = AlertsConfig()
    report_url: str | None = None  # where the published report is read (chat messages link it)
    run: RunConfig = RunConfig()
    warc: WarcConfig = WarcConfig()
    scrapyd: ScrapydConfig = ScrapydConfig()
    # The [sites.NAME] tables as read: the site profiles start from them, and `run` hands them
    # to its crawls.
    site_tables: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # key path -> FILE:LINE or variable
    warnings: tuple[str, ...] = ()
    # Checks the site tables and makes the profiles and sites of them (see `profiles`); None:
    # from `site_tables` alone, without the file's lines.
    resolve_sites: Callable[[], Sites] | None = field(default=None, repr=False, compare=False)

    def source_of(self, key_path: str) -> str:
        """Where a setting came from: FILE:LINE, the variable's name, or "default"."""
        return self.sources.get(key_path, DEFAULT)

    @property
    def profiles(self) -> dict[str, SiteProfile]:
        """The site profiles every command uses: the built-in ones with the [sites.NAME] tables
        applied (coopspider.profiles.load_profiles). Made on first use, as most commands need
        none; ConfigError then when a table is wrong (unless load_config checked them already)."""
        return self._sites.profiles

    @property
    def sites(self) -> dict[str, SiteConfig]:
        """The configured sites, as their checked profiles hold them (see `profiles`)."""
        return self._sites.sites

    @cached_property
    def _sites(self) -> Sites:
        if self.resolve_sites is not None:
            return self.resolve_sites()
        return _check_sites(None, "", self.site_tables)


@dataclass(frozen=True)
class Sites:
    """The site profiles and the configured sites, made of the [sites.NAME] tables."""

    profiles: dict[str, SiteProfile]
    sites: dict[str, SiteConfig]


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    check_sites: bool = True,
) -> Config:
    """Read `path` (or ./coopspider.toml when it exists), apply `env`, validate everything.

    Raises ConfigError listing every problem found. With `check_sites=False` the [sites.NAME]
    tables are checked, and made into site profiles, only when `Config.profiles` or
    `Config.sites` is first used (which raises ConfigError then): a command that needs no site
    does not pay for compiling every profile's patterns.
    """
    env = os.environ if env is None else env
    file = _locate(path)
    text = _read(file) if file else ""
    reader = _Reader(file, text)
    tables = reader.parse()
    config = reader.build(tables, _environment(env), check_sites=check_sites)
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


def _check_sites(file: Path | None, text: str, tables: dict[str, Any]) -> Sites:
    """The profiles and sites of the [sites.NAME] tables of `file` (whose `text` gives the lines
    of problems); raises ConfigError listing every problem of the tables."""
    reader = _Reader(file, text)
    sites = reader.resolve_sites(tables)
    if reader.problems:
        raise ConfigError(reader.problems)
    return sites


def _locate(path: str | Path | None) -> Path | None:
    if path is not None:
        return Path(path)
    default = Path(CONFIG_FILE_NAME)
    return default if default.is_file() else None


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{file}: no such configuration file"]) from None
    except UnicodeDecodeError as error:
        raise ConfigError([f"{file}: not UTF-8 text ({error.reason})"]) from None
    except OSError as error:
        raise ConfigError([f"{file}: cannot read: {error.strerror or error}"]) from None


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    """The overriding variables that are set to something."""
    return {name: env[name].strip() for name in ENV_OVERRIDES if env.get(name, "").strip()}


class _Reader:
    """Validates one file's tables and the environment, collecting problems as it goes."""

    def __init__(self, file: Path | None, text: str) -> None:
        self.file = file
        self.text = text
        self._problems: list[tuple[int, str]] = []
        self.sources: dict[str, str] = {}

    # -- reporting --

    def line(self, key_path: str) -> int | None:
        """The line of `key_path`; for a key the file does not spell out (a required one, one in
        an inline table), the line of the nearest table that holds it."""
        parts, line = key_path.split("."), None
        while parts and line is None:
            line = key_line(self.text, ".".join(parts))
            parts.pop()
        return line

    def where(self, key_path: str) -> str:
        """FILE:LINE of `key_path`, or FILE when the line cannot be found."""
        line = self.line(key_path)
        return f"{self.file}:{line}" if line else f"{self.file}"

    def problem(self, key_path: str, message: str, *, variable: str | None = None) -> None:
        if variable:
            self._problems.append((0, f"environment variable {variable}: {message}"))
            return
        line = self.line(key_path) or 0
        self._problems.append((line, f"{self.where(key_path)}: {key_path}: {message}"))

    @property
    def problems(self) -> list[str]:
        """Every problem, the environment's first, then the file's in line order."""
        return [text for _, text in sorted(self._problems, key=lambda problem: problem[0])]

    # -- the file --

    def parse(self) -> dict[str, Any]:
        if self.file is None:
            return {}
        try:
            tables = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            message = str(error)
            match = re.search(r"\(at line (\d+), column (\d+)\)", message)
            if match:
                message = message[: match.start()].strip() + f" (column {match[2]})"
                raise ConfigError([f"{self.file}:{match[1]}: invalid TOML: {message}"]) from None
            raise ConfigError([f"{self.file}: invalid TOML: {message}"]) from None
        for name in tables:
            if name not in SECTIONS:
                self.problem(name, f"unknown section; expected one of: {', '.join(SECTIONS)}")
        for name in SECTIONS:
            if name in tables and not isinstance(tables[name], dict):
                self.problem(name, f"expected a table [{name}], got {_describe(tables[name])}")
                del tables[name]
        return tables

    def table(self, section: dict[str, Any], prefix: str, keys: tuple[str, ...]) -> dict[str, Any]:
        """`section` (the table at `prefix`), its unknown keys reported."""
        for key in section:
            if key not in keys:
                self.problem(f"{prefix}.{key}", f"unknown key; expected one of: {', '.join(keys)}")
        return section

    def value(
        self,
        section: Mapping[str, Any],
        key_path: str,
        check: Callable[[Any], Any],
        env: Mapping[str, str] | None = None,
    ) -> Any:
        """The checked value of `key_path`: the variable overriding it, else the file, else None.

        `check` returns the value to use or raises ValueError with what was expected.
        """
        variable = next((v for v, path in ENV_OVERRIDES.items() if path == key_path), None)
        if env is not None and variable is not None and variable in env:
            raw, source = env[variable], variable
        elif key_path.rsplit(".", 1)[-1] in section:
            raw, source = section[key_path.rsplit(".", 1)[-1]], self.where(key_path)
        else:
            return None
        try:
            checked = check(raw)
        except _BadItem as error:
            self.problem(key_path, str(error), variable=_env_name(source))
            return None
        except ValueError as error:
            self.problem(key_path, f"{error}, got {_describe(raw)}", variable=_env_name(source))
            return None
        self.sources[key_path] = source
        return checked

    # -- the whole configuration --

    def build(self, tables: dict[str, Any], env: dict[str, str], *, check_sites: bool) -> Config:
        def section(name: str, keys: tuple[str, ...]) -> dict[str, Any]:
            return self.table(tables.get(name, {}), name, keys)

        database = section("database", ("url",))
        smtp_table = section("smtp", ("host", "port", "user", "password", "security"))
        alerts = section("alerts", ("from", "to", "notify"))
        report = section("report", ("url",))
        run = section("run", ("timeout", "lock_file"))
        warc = section("warc", ("enabled", "dir"))
        scrapyd = section("scrapyd", ("nodes",))

        database_url = self.value(database, "database.url", _database_url, env)
        host = self.value(smtp_table, "smtp.host", _host, env)
        port = self.value(smtp_table, "smtp.port", _port, env)
        user = self.value(smtp_table, "smtp.user", _login, env)
        password = self.value(smtp_table, "smtp.password", _password, env)
        security = self.value(smtp_table, "smtp.security", _security, env)
        # The mail server decides what is safe; with a login, never send it in clear.
        security = security or ("starttls" if user else "none")
        sender = self.value(alerts, "alerts.from", _address, env)
        recipients = self.value(alerts, "alerts.to", _addresses, env)
        notify = self.value(alerts, "alerts.notify", _notify_targets, env)
        report_url = self.value(report, "report.url", _web_url, env)
        timeout = self.value(run, "run.timeout", _seconds)
        lock_file = self.value(run, "run.lock_file", _path)
        warc_enabled = self.value(warc, "warc.enabled", _switch, env)
        warc_dir = self.value(warc, "warc.dir", _path, env)
        nodes = self.value(scrapyd, "scrapyd.nodes", node_urls)
        # The login never comes from the file: it is the nodes' secret, kept off shared files.
        scrapyd_user = self.value({}, "scrapyd.username", _login, env)
        scrapyd_password = self.value({}, "scrapyd.password", _password, env)
        site_tables = tables.get("sites", {})
        for name, table in site_tables.items():
            for key in table if isinstance(table, dict) else ():
                self.sources[f"sites.{name}.{key}"] = self.where(f"sites.{name}.{key}")
        if check_sites:  # now, its problems among the others
            resolved = self.resolve_sites(site_tables)

            def resolve_sites() -> Sites:
                return resolved
        else:
            resolve_sites = partial(_check_sites, self.file, self.text, site_tables)

        return Config(
            path=self.file,
            database_url=database_url,
            smtp=SmtpConfig(
                host=host or DEFAULT_SMTP_HOST,
                port=port or DEFAULT_SMTP_PORTS[security],
                user=user,
                password=password,
                security=security,
            ),
            alerts=AlertsConfig(
                sender=sender or default_sender(),
                recipients=tuple(recipients or ()),
                notify=tuple(notify or ()),
            ),
            report_url=report_url,
            run=RunConfig(timeout=timeout or DEFAULT_CRAWL_TIMEOUT_S, lock_file=lock_file),
            warc=WarcConfig(
                enabled=True if warc_enabled is None else warc_enabled,
                dir=warc_dir or DEFAULT_WARC_DIR,
            ),
            scrapyd=ScrapydConfig(
                nodes=tuple(nodes or ()), username=scrapyd_user, password=scrapyd_password
            ),
            site_tables=site_tables,
            sources=dict(self.sources),
            warnings=tuple(self.warnings(tables)),
            resolve_sites=resolve_sites,
        )

    def resolve_sites(self, tables: dict[str, Any]) -> Sites:
        """The site profiles and configured sites of the [sites.NAME] tables; none, and the
        problems noted, when a table is wrong."""
        profiles = self.profiles(tables)
        return Sites(profiles, self.sites(tables, profiles))

    def profiles(self, tables: dict[str, Any]) -> dict[str, SiteProfile]:
        """The site profiles with the `[sites.NAME]` tables applied, checked where site profiles
        are (coopspider.profiles, the one checker of their keys), its problems among the others
        with their lines; none when there is a problem."""
        from coopspider.profiles import ProfileError, load_profiles

        try:
            return load_profiles(tables)
        except ProfileError as error:
            for key_path, message in error.problems:
                self.problem(key_path, message)
            return {}

    def sites(
        self, tables: dict[str, Any], profiles: Mapping[str, SiteProfile]
    ) -> dict[str, SiteConfig]:
        """The `[sites.NAME]` tables as their checked profiles hold them."""
        if not profiles:
            return {}
        sites: dict[str, SiteConfig] = {}
        for name, table in tables.items():
            profile = profiles[name]
            given = {key: getattr(profile, key) for key in _SITE_SETTINGS if key in table}
            sites[name] = SiteConfig(name=name, profile=table.get("profile"), **given)
        return sites

    def warnings(self, tables: dict[str, Any]) -> list[str]:
        """A password in a file others can read is worth a word, not a refusal."""
        if self.file is None:
            return []
        holds_password = (
            bool(tables.get("smtp", {}).get("password"))
            or bool(tables.get("alerts", {}).get("notify"))  # Apprise URLs hold tokens
            or _url_has_password(tables.get("database", {}).get("url"))
        )
        try:
            mode = self.file.stat().st_mode
        except OSError:
            return []
        if holds_password and mode & (stat.S_IRWXG | stat.S_IRWXO):
            return [
                f"{self.file} holds a password and is readable by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {self.file}"
            ]
        return []


def _env_name(source: str) -> str | None:
    return source if source in ENV_OVERRIDES else None


# -- value checks: each returns the value to use or raises ValueError("expected ...") ----------


class _BadItem(ValueError):
    """One item of a list is wrong; the message names it, so nothing is appended."""


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _nonempty_string(value: Any) -> str:
    if not _string(value).strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _ascii(check: Callable[[Any], str]) -> Callable[[Any], str]:
    """`check`, and the value in ASCII: smtplib sends the login as ASCII, so a mistake shows
    here rather than while sending."""

    def checked(value: Any) -> str:
        text = check(value)
        if not text.isascii():
            raise _BadItem("expected ASCII characters only (smtplib sends the login as ASCII)")
        return text

    return checked


def _host(value: Any) -> str:
    host = _nonempty_string(value)
    if any(char.isspace() for char in host) or "/" in host or ":" in host:
        raise ValueError("expected a host name such as smtp.example.org (the port goes in port)")
    return host


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)  # environment variables are text
    if not isinstance(value, int):
        raise ValueError("expected a whole number")
    return value


def _port(value: Any) -> int:
    port = _integer(value)
    if not 1 <= port <= 65535:
        raise ValueError("expected a port number from 1 to 65535")
    return port


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    """A check accepting one of `choices`, in any case."""

    def check(value: Any) -> str:
        text = _string(value).strip()
        for choice in choices:
            if text.casefold() == choice.casefold():
                return choice
        raise ValueError(f"expected one of {', '.join(choices)}")

    return check


_security = _one_of(SECURITY_MODES)
_login = _ascii(_nonempty_string)
_password = _ascii(_string)


def _address(value: Any) -> str:
    text = _nonempty_string(value)
    parsed = getaddresses([text])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise ValueError("expected one e-mail address such as alerts@example.org")
    return text


def _list(value: Any, expected: str) -> list[Any]:
    """A non-empty list from the file, or from a comma-separated environment variable."""
    if isinstance(value, str):  # from the environment: comma-separated
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a list of {expected}")
    return value


def _addresses(value: Any) -> list[str]:
    addresses = []
    for item in _list(value, 'e-mail addresses such as ["editor@example.org"]'):
        try:
            addresses.append(_address(item))
        except ValueError:
            raise _BadItem(
                "expected e-mail addresses such as editor@example.org; "
                f"{_describe(item)} is not one"
            ) from None
    return addresses


def _web_url(value: Any) -> str:
    url = _nonempty_string(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise ValueError("expected an http(s) URL such as https://example.org/coopspider/")
    return url


def _notify_targets(value: Any) -> list[NotifyTarget]:
    items = _list(value, 'Apprise URLs such as ["tgram://BOT_TOKEN/CHAT_ID"]')
    targets: list[NotifyTarget] = []
    for number, item in enumerate(items, start=1):
        target = notify_target(item) if isinstance(item, str) else None
        if target is None:
            raise _BadItem(
                f"item {number} ({_scheme_of(item)}) is not an Apprise URL Apprise can use "
                "(unknown service, or a part missing), such as tgram://BOT_TOKEN/CHAT_ID, "
                "slack://TOKEN_A/TOKEN_B/TOKEN_C/#channel or json://host/path"
            )
        same = next((i for i, t in enumerate(targets, start=1) if t.key == target.key), None)
        if same is not None:
            raise _BadItem(f"items {same} and {number} name the same channel ({target.shown})")
        targets.append(target)
    return targets


def _scheme_of(item: Any) -> str:
    """How an invalid item is named without showing it: it may hold a token."""
    if not isinstance(item, str):
        return _describe(item) if not isinstance(item, str | int | float) else "not a string"
    scheme, sep, _ = item.strip().partition("://")
    if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,20}", scheme):
        return f"a {scheme}:// URL"
    return "not a URL"


_URL_PARTS = re.compile(r"[/:@?&=#,+;\s]+")


def notify_target(url: str) -> NotifyTarget | None:
    """The target of one Apprise URL, None when Apprise cannot use it."""
    import apprise

    url = url.strip()
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return None
    private = str(plugin.url(privacy=True))
    shown = private.split("?", 1)[0]
    # The parts of the URL Apprise masks (tokens, passwords): every piece absent from its
    # masked form, longest first so a secret holding another is masked whole.
    from urllib.parse import unquote

    pieces = {piece for piece in _URL_PARTS.split(unquote(url)) if len(piece) >= 3}
    pieces |= {piece for piece in _URL_PARTS.split(url) if len(piece) >= 3}
    secrets = sorted((p for p in pieces if p not in private), key=len, reverse=True)
    digest = hashlib.sha256(private.encode("utf-8")).hexdigest()[:32]
    return NotifyTarget(url=url, shown=shown, key=f"apprise:{digest}", secrets=tuple(secrets))


def _database_url(value: Any) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = _nonempty_string(value)
    try:
        make_url(url)
    except ArgumentError:
        raise ValueError(
            "expected a database URL such as sqlite:///data/coopspider.sqlite3 or "
            "postgresql+psycopg://user@host/db"
        ) from None
    return url


def _url_has_password(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return bool(make_url(value).password)
    except ArgumentError:
        return False


def node_url(value: Any) -> str:
    """A Scrapyd node's address, http(s)://HOST:PORT, as the program uses it (one trailing /).

    No login in it: the nodes' HTTP login comes from COOPSPIDER_SCRAPYD_USERNAME/PASSWORD."""
    text = _nonempty_string(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected a Scrapyd node address such as http://10.0.0.5:6800")
    if "@" in parts.netloc:
        raise ValueError(
            "expected no login in a node address (set COOPSPIDER_SCRAPYD_USERNAME and "
            "COOPSPIDER_SCRAPYD_PASSWORD)"
        )
    try:
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError("expected a port number after the host") from None
    if parts.query or parts.fragment:
        raise ValueError("expected a node address without ?query or #fragment")
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/"))


def node_urls(value: Any) -> list[str]:
    """Scrapyd node addresses: a list, or (from the command line) one comma-separated string;
    repeats dropped. Raises ValueError naming the wrong one."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not value:
        raise ValueError('expected a list of node addresses such as ["http://10.0.0.5:6800"]')
    nodes: list[str] = []
    for item in value:
        try:
            url = node_url(item)
        except ValueError as error:
            raise _BadItem(f"{error}; {_describe(item)} is not one") from None
        if url not in nodes:
            nodes.append(url)
    return nodes


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("expected a number of seconds above 0")
    return float(value)


def _switch(value: Any) -> bool:
    """true/false in the file; 1/0 (or true/false, yes/no, on/off) in a variable."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false (1 or 0)")


def _path(value: Any) -> Path:
    return Path(_nonempty_string(value)).expanduser()


# -- finding the line of a key ------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def key_line(text: str, key_path: str) -> int | None:
    """The 1-based line where `key_path` (e.g. "sites.hanoi.base_url") is set, if it can be found.

    Understands table headers and dotted keys, which is how people write this file; keys inside
    inline tables are not located (the message then names the key path alone).
    """
    table: list[str] = []
    wanted = key_path.split("[", 1)[0].split(".")  # "urls.article[1]": the line of the list
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _HEADER.match(line):
            table = _split_key(header[1])
            if table == wanted:
                return number
            continue
        if assignment := _ASSIGNMENT.match(line):
            full = table + _split_key(assignment[1])
            if full == wanted:
                return number
    return None


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]


# -- showing the configuration --------------------------------------------------------------------


def archive_problem(url: str, error: BaseException) -> str | None:
    """Why the archive at `url` could not be opened (or written, for a writer), in one line with
    the password masked; None for an error that is not about opening it."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage import (
        ArchiveMissing,
        ArchiveNotWritable,
        ArchiveOutdated,
        SchemaUnavailable,
        database_problem,
    )

    shown = masked_url(url)
    if isinstance(error, ArchiveNotWritable):
        return f"cannot write to the database {shown}: {error}"
    if isinstance(error, ArchiveMissing):
        return f"no archive at {shown}: run a crawl first"
    if isinstance(error, ArchiveOutdated):
        return f"the archive at {shown} {error}: run a crawl first (it upgrades the archive)"
    if isinstance(error, SchemaUnavailable):
        return f"cannot open the database {shown}: {error}"
    if isinstance(error, (SQLAlchemyError, OSError, ValueError)):
        return f"cannot open the database {shown}: {database_problem(error)}"
    return None


def masked_url(url: str) -> str:
    """A database or site URL as messages and logs show it: the password in it replaced by ***
    (a site URL's user name too when it comes without a password: often a token)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if url.lower().startswith(("http://", "https://")):
        bare, login = split_login(url)
        if login is None:
            return url
        user, password = login
        shown = f"{quote(user, safe='')}:***" if password else "***"
        parts = urlsplit(bare)
        return urlunsplit(parts._replace(netloc=f"{shown}@{parts.netloc}"))
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # Not a URL at all: shown as typed, unless a login might hide in it.
        return "(invalid URL)" if "@" in url else url


def effective_database_url(config: Config, command_line: str | None) -> tuple[str, str]:
    """(URL, where it came from): `--database`, else the environment or file, else the default."""
    from storage import DEFAULT_DATABASE_URL

    if command_line and command_line.strip():
        return command_line.strip(), "--database"
    if config.database_url:
        return config.database_url, config.source_of("database.url")
    return DEFAULT_DATABASE_URL, "default"


def describe(config: Config, database: tuple[str, str], run_lock: tuple[str, str]) -> list[str]:
    """The effective configuration as lines for people, secrets masked, sources named.

    `database` is the effective (URL, source) pair, as `effective_database_url` gives it;
    `run_lock` what keeps runs apart on that archive and its source
    (coopspider.cycle.run_lock_in_use).
    """

    def shown(value: Any, key_path: str) -> str:
        text = "-" if value is None else str(value)
        return f"{text}  ({config.source_of(key_path)})"

    smtp, alerts = config.smtp, config.alerts
    url, source = database
    lines = [
        f"database: {masked_url(url)}  ({source})",
        f"smtp.host: {shown(smtp.host, 'smtp.host')}",
        f"smtp.port: {shown(smtp.port, 'smtp.port')}",
        f"smtp.user: {shown(smtp.user, 'smtp.user')}",
        f"smtp.password: {shown(MASK if smtp.password else None, 'smtp.password')}",
        f"smtp.security: {shown(smtp.security, 'smtp.security')}",
        f"alerts.from: {shown(alerts.sender, 'alerts.from')}",
        "alerts.to: "
        + shown(
            ", ".join(alerts.recipients)
            or ("(nobody by e-mail)" if alerts.notify else "(nobody: the digest is printed)"),
            "alerts.to",
        ),
        "alerts.notify: "
        + shown(", ".join(t.shown for t in alerts.notify) or "none", "alerts.notify"),
        f"report.url: {shown(config.report_url, 'report.url')}",
        f"run.timeout: {shown(f'{config.run.timeout:g} s per site', 'run.timeout')}",
        f"run.lock_file: {run_lock[0]}  ({run_lock[1]})",
        f"warc.enabled: {shown(str(config.warc.enabled).lower(), 'warc.enabled')}",
        f"warc.dir: {shown(config.warc.dir, 'warc.dir')}",
        "scrapyd.nodes: "
        + shown(", ".join(config.scrapyd.nodes) or "(none: `run` crawls here)", "scrapyd.nodes"),
        f"scrapyd.username: {shown(config.scrapyd.username, 'scrapyd.username')}",
        "scrapyd.password: " + shown(MASK if config.scrapyd.password else None, "scrapyd.password"),
    ]
    if not config.sites:
        lines.append(f"sites: none configured; `coopspider run` crawls {DEFAULT_SITE}")
    for site in config.sites.values():
        lines.append(f"site {site.name}:")
        lines.extend(
            f"  {key}: {value}  ({source})"
            for key, value, source in site_settings(config, site.name)
        )
    return lines


# The Scrapy settings a crawl falls back to when neither the site table nor its profile sets the
# revisit windows (the spider reads them; coopspider/settings.py sets them).
_SPIDER_SETTINGS = {"revisit_days": "REVISIT_DAYS", "revisit_old_days": "REVISIT_OLD_DAYS"}
SCRAPY_SETTINGS_SOURCE = "coopspider/settings.py"


def site_settings(config: Config, name: str) -> list[tuple[str, str, str]]:
    """(key, value as shown, source) of each per-site setting a crawl of the configured site
    `name` uses: from its [sites.NAME] table (FILE:LINE), else the built-in profile it starts from
    (coopspider/profiles.toml:LINE), else the Scrapy setting (coopspider/settings.py:LINE), else
    "default"."""
    from coopspider.profiles import DEFAULT_PROFILE, builtin_profiles, builtin_source

    profile = config.profiles[name]
    table = config.site_tables.get(name, {})
    builtin = name in builtin_profiles()
    start = table.get("profile", name if builtin else DEFAULT_PROFILE)

    def source(key: str, builtin_table: str = start) -> str:
        if key in table:
            return config.source_of(f"sites.{name}.{key}")
        return builtin_source(f"{builtin_table}.{key}") or DEFAULT

    # A built-in site moved to another platform keeps its own root (profiles._override).
    root_table = name if builtin else start
    shown = [
        ("base_url", masked_url(profile.base_url), source("base_url", root_table)),
        ("profile", start, source("profile")),
        ("categories", ", ".join(profile.categories) or "all", source("categories")),
        (
            "skip_categories",
            ", ".join(profile.skip_categories) or "none",
            source("skip_categories"),
        ),
    ]
    for key, setting in _SPIDER_SETTINGS.items():
        days = getattr(profile, key)
        shown.append(
            (key, str(days), source(key)) if days is not None else _scrapy_setting(key, setting)
        )
    shown.append(("date_order", profile.date_order, source("date_order")))
    return shown


def _scrapy_setting(key: str, setting: str) -> tuple[str, str, str]:
    """(key, value, source) of `key` left to the project setting `setting`: its value in
    coopspider/settings.py and the line that sets it."""
    text = Path(crawl_settings.__file__).read_text(encoding="utf-8")
    match = re.search(rf"^{setting}\s*=", text, re.MULTILINE)
    source = SCRAPY_SETTINGS_SOURCE
    if match:
        line = text.count("\n", 0, match.start()) + 1
        source += f":{line}"
    return key, str(getattr(crawl_settings, setting)), source


# -- adding a site --------------------------------------------------------------------------------

# The first line of the comment block `coopspider discover` writes above a site's table.
DISCOVERED_MARK = "# Learned by `coopspider discover`"


def add_site_table(path: Path, name: str, table: str, *, replace: bool = False) -> bool:
    """Write the `[sites.NAME]` table `table` (TOML text) into the configuration file at `path`,
    creating it; other tables and comments stay as they are. An existing table of that name is
    an error unless `replace`, which swaps it (and the comment block discover wrote above it).

    The file changes only once the result is valid; it is replaced whole (never half-written)
    and keeps its permissions (a new file is private: it may later hold passwords). Returns
    whether a table was replaced; raises ConfigError.
    """
    text = _read(path) if path.exists() else ""
    replaced = name in _sites_of(path, text)
    if replaced:
        if not replace:
            raise ConfigError(
                [f"{path}: [sites.{name}] exists already; --force replaces it, --name picks "
                 "another name"]
            )  # fmt: skip
        text = _without_table(text, ["sites", name])
        if name in _sites_of(path, text):
            line = key_line(text, f"sites.{name}") or "?"
            raise ConfigError(
                [f"{path}:{line}: sites.{name} is not written as a [sites.{name}] table; "
                 "edit it by hand or pick another --name"]
            )  # fmt: skip
    existing = text.rstrip("\n")
    new_text = (existing + "\n\n" if existing else "") + table.rstrip("\n") + "\n"
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(new_text)
            out.flush()
            os.fsync(out.fileno())
        try:
            load_config(temporary, env={})  # the site tables must make valid profiles too
        except ConfigError as error:
            named = [problem.replace(str(temporary), str(path), 1) for problem in error.problems]
            raise ConfigError(named) from error
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        raise ConfigError([f"{path}: cannot write: {error.strerror or error}"]) from error
    finally:
        temporary.unlink(missing_ok=True)
    return replaced


def _sites_of(path: Path, text: str) -> dict[str, Any]:
    try:
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{path}: invalid TOML, fix it first: {error}"]) from None
    sites = tables.get("sites", {})
    return sites if isinstance(sites, dict) else {}


def _without_table(text: str, table: list[str]) -> str:
    """`text` without the table `table`, its sub-tables, and a discover comment block above it."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            inside = _split_key(header[1])[: len(table)] == table
            if inside and not skipping:
                _drop_discover_comments(kept)
            skipping = inside
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _drop_discover_comments(lines: list[str]) -> None:
    """Remove the comment block at the end of `lines` when discover wrote it."""
    start = len(lines)
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    if start < len(lines) and lines[start].startswith(DISCOVERED_MARK):
        del lines[start:]
    while lines and not lines[-1].strip():
        lines.pop()
