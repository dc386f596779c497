"""The `coopspider` command: crawl, extract, export, the sample site, sites, alerts, scheduled
runs, config.

Thin: work is elsewhere. Exit codes are listed in coopspider.exitcodes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from coopspider.exitcodes import (
    EXIT_ALERTS_NOT_SENT,
    EXIT_CRAWL_FAILED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
)
from coopspider.text import strip_controls

if TYPE_CHECKING:
    from datetime import datetime

    from coopspider.config import Config, ConfigError, SiteConfig
    from coopspider.cycle import Step
    from coopspider.profiles import SiteProfile
    from coopspider.sample_site import SampleSite
    from storage import Database

SAMPLE_SITE_NAME = "sample"
# Politeness off, for our own sample server on loopback: no need to be gentle with it.
LOOPBACK_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


class UserError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def _config(args: argparse.Namespace, *, check_sites: bool = False) -> Config:
    """The configuration file's settings under the environment's, read once per command. Its
    [sites.NAME] tables are checked when a command first uses the sites (`_profiles`), unless
    `check_sites` asks for every problem at once."""
    from coopspider.config import ConfigError, load_config

    if getattr(args, "loaded_config", None) is None:
        try:
            path = getattr(args, "config", None)
            args.loaded_config = load_config(path, check_sites=check_sites)
        except ConfigError as error:
            raise _invalid_configuration(error) from error
        for warning in args.loaded_config.warnings:
            print(f"coopspider: warning: {warning}", file=sys.stderr)
    return args.loaded_config


def _invalid_configuration(error: ConfigError) -> UserError:
    problems = "\n  ".join(error.problems)
    return UserError(f"invalid configuration:\n  {problems}")


def _database_url(args: argparse.Namespace) -> str:
    """--database, else $COOPSPIDER_DATABASE_URL, else the configuration file, else the default."""
    from coopspider.config import effective_database_url

    return effective_database_url(_config(args), args.database)[0]


def _open(args: argparse.Namespace, *, read_only: bool = False, create: bool = True) -> Database:
    """The archive, for reading only or for writing (created when missing unless `create` is
    False); a database that cannot be opened, or written by a writer, is a one-line UserError."""
    from coopspider.config import archive_problem
    from storage import check_writable, open_database

    url = _database_url(args)
    database = None
    try:
        database = open_database(url, read_only=read_only, create=create)
        if not read_only:
            check_writable(database)
    except Exception as error:
        problem = archive_problem(url, error)
        if problem is None:
            raise
        if database is not None:
            database.close()
        raise UserError(problem) from error
    return database


def _require_known_site(args: argparse.Namespace, database: Database) -> None:
    """A --site that is neither a profile, a configured site nor one the archive holds is a
    UserError naming the known ones (a typo would otherwise read as "nothing found")."""
    from storage.reading import archived_sites

    if args.site is None or args.site in _profiles(args):
        return
    with database.read() as connection:
        known = set(archived_sites(connection))
    if args.site not in known:
        known.update(_profiles(args))
        raise UserError(f"unknown site {args.site!r}; known sites: {', '.join(sorted(known))}")


# -- crawl ----------------------------------------------------------------------------------------


def run_crawl(
    base_url: str | None,
    site: str | None,
    database_url: str,
    overrides: dict[str, Any] | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """Run the `lienminh` spider in this process and return its final stats."""
    arguments = {
        key: value
        for key, value in (("base_url", base_url), ("site", site), ("profile", profile))
        if value
    }
    settings = {"DATABASE_URL": database_url, **(overrides or {})}
    spider = _run_spider("lienminh", settings, **arguments)
    stats = spider.crawler.stats if spider is not None else None
    return dict(stats.get_stats()) if stats else {}


def _run_spider(name: str, overrides: dict[str, Any], **arguments: Any) -> Any:
    """Run one spider of the project in this process; returns the spider when it is done."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "coopspider.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for setting, value in overrides.items():
        settings.set(setting, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(name)
    process.crawl(crawler, **arguments)
    process.start()
    return crawler.spider


def cmd_crawl(args: argparse.Namespace) -> int:
    from coopspider.config import masked_url
    from coopspider.profiles import known_names
    from coopspider.sample_site import build_site, serve

    database_url = _database_url(args)
    sample_grammars = {SAMPLE_SITE_NAME: None, **_profiles(args)}
    if args.sample and args.site not in (None, *sample_grammars):
        raise UserError(
            f"unknown site {args.site!r}; known sites: {known_names(sample_grammars)} (with "
            "--sample, --site names the profile whose URL grammar the sample site takes)"
        )
    if not args.sample:
        _check_site(args, args.site, args.base_url, None)  # before the archive is made
    _open(args).close()  # a database the crawl cannot write: one line, now
    overrides: dict[str, Any] = {
        "LOG_LEVEL": args.log_level,
        "SITE_PROFILES": _site_tables(args),
        "FULL_CRAWL": args.full,
        **_config(args).warc.crawl_settings(),
    }
    with ExitStack() as stack:
        base_url, site, profile = args.base_url, args.site, None
        if args.sample:
            # `--site NAME` of a profile serves the sample in that profile's URL grammar; the
            # articles are still filed under "sample", never under a real site's name.
            if site in _profiles(args):
                site, profile = None, site
            server = stack.enter_context(serve(build_site(grammar=profile or "thaibinh")))
            base_url, site = server.base_url, site or SAMPLE_SITE_NAME
            overrides.update(LOOPBACK_SETTINGS)
            print(f"Serving the sample site at {base_url}", flush=True)
        overrides.update(_setting(text) for text in args.set)
        _check_site(args, site, base_url, profile)
        where = masked_url(base_url) if base_url else "the Thái Bình alliance site"
        print(f"Crawling {where} into {masked_url(database_url)}", flush=True)
        try:
            stats = run_crawl(base_url, site, database_url, overrides, profile)
        except ValueError as error:
            raise UserError(str(error)) from error
    return _report_crawl(args, stats)


def _check_site(
    args: argparse.Namespace, site: str | None, base_url: str | None, profile: str | None
) -> None:
    """Refuse an unknown site or a bad base URL before Scrapy starts, in one line."""
    from coopspider.profiles import ProfileError, resolve_site

    try:
        resolve_site(_profiles(args), site, base_url, profile)
    except ProfileError as error:
        raise UserError(str(error)) from error


def _report_crawl(args: argparse.Namespace, stats: dict[str, Any]) -> int:
    from coopspider.cycle import home_page_failure
    from coopspider.extensions import INTERRUPTED_STAT
    from coopspider.pipelines.store import HOME_PAGE_UNREAD_STAT
    from storage import UTC_PLUS_7, get_run, latest_versions

    if stats.get(INTERRUPTED_STAT):
        return EXIT_INTERRUPTED  # the crawl said so on stderr, in one line
    if stats.get(HOME_PAGE_UNREAD_STAT):
        print(f"coopspider: crawl failed: {home_page_failure(stats)}", file=sys.stderr)
        return EXIT_CRAWL_FAILED
    reason = stats.get("finish_reason", "unknown")
    counts = {
        kind: stats.get(f"coopspider/articles/{kind}", 0)
        for kind in ("new", "changed", "unchanged")
    }
    print(
        f"Crawl {reason}: {stats.get('downloader/response_count', 0)} pages fetched, "
        f"{counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged "
        f"articles; {stats.get('coopspider/pages/unparsed', 0)} pages not parsed, "
        f"{stats.get('coopspider/date_unparsed', 0)} dates not understood."
    )
    if stats.get("coopspider/home/no_grammar_links"):
        print(
            "No link on the home page fits this site's URL grammar: learn the site with "
            "`coopspider discover URL --write`."
        )
    if stats.get("coopspider/baseline"):
        print("First crawl of this site: its articles are the baseline later crawls compare with.")
    elif removed := stats.get("coopspider/events/removed", 0):
        print(f"{removed} articles removed from the site (coopspider diff).")
    run_id = stats.get("coopspider/run_id")
    if run_id is not None:
        database = _open(args, read_only=True)
        with database.session() as session:
            run = get_run(session, run_id)
            rows = list(latest_versions(session, site=run.site)) if run else []
        print(f"The archive holds {len(rows)} articles of site {run.site if run else '?'}:")
        for article, version in rows[: args.show]:
            published = version.published_at
            date = published.astimezone(UTC_PLUS_7).date().isoformat() if published else "-" * 10
            print(f"  {date}  {version.title}  <{article.url}>")
        if len(rows) > args.show:
            print(f"  ... and {len(rows) - args.show} more (coopspider export)")
    return EXIT_OK if reason == "finished" else EXIT_FAILED


# -- extract --------------------------------------------------------------------------------------


class PageUnread(Exception):
    """A page that could not be fetched (network, HTTP status): `extract` exits 1."""


def _read_page(
    source: str, url: str | None, timeout: float
) -> tuple[str, bytes, dict[str, str], str | None]:
    """(url, body, headers, fetched_at) of a saved file (fetched_at None: unknown) or a live
    page. A source that is neither a file nor a valid http(s) URL is a UserError; a live page
    that cannot be fetched is PageUnread."""
    path = Path(source)
    if path.is_file():
        return url or path.resolve().as_uri(), path.read_bytes(), {}, None
    if not source.startswith(("http://", "https://")):
        raise UserError(f"{source}: no such file, and not an http(s) URL")
    import urllib.error
    import urllib.request
    from datetime import UTC, datetime

    from coopspider.dates import to_iso
    from coopspider.settings import USER_AGENT

    _check_url(source)
    request = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})
    fetched_at = to_iso(datetime.now(UTC))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers = {"Content-Type": response.headers.get("Content-Type", "")}
            return url or response.geturl(), response.read(), headers, fetched_at
    except urllib.error.HTTPError as error:
        raise PageUnread(f"cannot fetch {source}: HTTP {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise PageUnread(f"cannot fetch {source}: {error.reason}") from error
    except (TimeoutError, OSError) as error:
        raise PageUnread(f"cannot fetch {source}: {error or type(error).__name__}") from error
    except ValueError as error:  # http.client.InvalidURL, a character a request cannot hold
        raise UserError(f"{source!r} is not a valid URL: {error}") from error


def _check_url(source: str) -> None:
    """A UserError unless `source` is an http(s) URL with a host and a valid port."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(source)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise UserError(f"{source!r} is not a valid URL: {error}") from error
    if not parts.hostname:
        raise UserError(f"{source!r} is not a valid URL: no host")
    if any(char.isspace() or not char.isprintable() for char in source):
        raise UserError(f"{source!r} is not a valid URL: it holds a space or control character")


def _site_tables(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration file's `[sites.NAME]` tables, which adjust or add site profiles."""
    return dict(_config(args).site_tables)


def _profiles(args: argparse.Namespace) -> dict[str, SiteProfile]:
    """The site profiles: the built-in ones with the configuration file's tables applied."""
    return _sites_of(_config(args)).profiles


def _sites_of(config: Config) -> Config:
    """`config`, its [sites.NAME] tables checked (a UserError when one is wrong)."""
    from coopspider.config import ConfigError

    try:
        config.profiles  # noqa: B018 - makes and checks the profiles and sites, once
    except ConfigError as error:
        raise _invalid_configuration(error) from error
    return config


def _profile_for(args: argparse.Namespace, name: str | None, url: str) -> SiteProfile | None:
    """The profile `--site` names, else the one whose host the URL is on, else None."""
    from coopspider.profiles import known_names
    from coopspider.urls import host_of

    profiles = _profiles(args)
    if name is not None:
        if name not in profiles:
            raise UserError(f"unknown site {name!r}; known sites: {known_names(profiles)}")
        return profiles[name]
    return next((p for p in profiles.values() if host_of(p.base_url) == host_of(url)), None)


def cmd_extract(args: argparse.Namespace) -> int:
    from scrapy.http import HtmlResponse

    from coopspider.pages.article import ArticlePage
    from coopspider.pages.decoding import page_text
    from coopspider.urls import host_of

    try:
        url, body, headers, fetched_at = _read_page(args.source, args.url, args.timeout)
    except PageUnread as error:
        print(f"coopspider: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    profile = _profile_for(args, args.site, url)
    response = HtmlResponse(url=url, body=body, headers=headers)
    # Only a site profile knows its URL grammar: another host's URL says nothing of ids.
    parsed = profile.grammar.classify(url) if profile else None
    page = ArticlePage(
        response.url, page_text(response), date_order=args.date_order, profile=profile
    )
    fields = page.to_item()
    missing = [name for name in ("title", "body") if not fields[name]]
    if missing:
        print(
            f"coopspider: {url}: not read as an article (no {' and no '.join(missing)})",
            file=sys.stderr,
        )
    if args.explain:
        host = host_of(url) or url
        print(f"url           {url}")
        print(f"site profile  {profile.name if profile else '(none: generic evidence only)'}")
        if parsed is None:
            print(f"url grammar   (none: no site profile for {host}; --site NAME reads it as one)")
        else:
            print(
                f"url grammar   {parsed.kind.value}, id {parsed.article_id}, "
                f"category {parsed.category}"
            )
        for name, found in page.explain().items():
            print(f"{name:<13} {found['source']:<10} {found['detail']}")
            print(f"{'':<13} = {_shorten(found['value'])}")
        return EXIT_FAILED if missing else EXIT_OK
    record = {
        "url": url,
        "site": profile.name if profile else None,
        "article_id": parsed.article_id if parsed else None,
        "category": parsed.category if parsed else None,
        **fields,
        "fetched_at": fetched_at,
    }
    json.dump(record, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return EXIT_FAILED if missing else EXIT_OK


def _shorten(value: Any, limit: int = 110) -> str:
    """A field value on one line for --explain: long texts cut, paragraphs counted."""
    if isinstance(value, str) and "\n\n" in value:
        count = value.count("\n\n") + 1
        value = f"({count} paragraphs, {len(value)} characters) " + value.replace("\n\n", " ¶ ")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- export ---------------------------------------------------------------------------------------

# Spreadsheets run a CSV cell that starts with one of these as a formula (CSV injection): page
# text is data, so such a cell gets a leading apostrophe, which they show as plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _since(value: str | None) -> datetime | None:
    """--since as an aware datetime: a date is midnight in Vietnam; ISO 8601 times are kept."""
    if value is None:
        return None
    from storage.content import UTC_PLUS_7, parse_timestamp

    try:
        return parse_timestamp(value, UTC_PLUS_7)
    except ValueError as error:
        raise UserError(f"--since {value!r}: not a date (YYYY-MM-DD) or ISO 8601 time") from error


def cmd_export(args: argparse.Namespace) -> int:
    from coopspider.progress import Progress
    from storage.reading import all_versions, article_as_dict, latest_versions

    if args.bom and args.format != "csv":
        raise UserError("--bom is for --format csv (a byte order mark would break JSON lines)")
    since = _since(args.since)
    select_rows = all_versions if args.versions else latest_versions
    database = _open(args, read_only=True)
    _require_known_site(args, database)
    out = sys.stdout
    with database.read() as connection, Progress("exported articles") as progress:
        pairs = select_rows(connection, site=args.site, since=since)
        rows = (article_as_dict(article, version) for article, version in pairs)
        if args.format == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                progress.advance()
            return EXIT_OK
        if args.bom:
            # Spreadsheet software reads a CSV as UTF-8 only when it starts with a BOM.
            out.write("\ufeff")
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            row["images"] = json.dumps(row["images"], ensure_ascii=False)
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({key: _spreadsheet_safe(value) for key, value in row.items()})
            progress.advance()
    return EXIT_OK


# -- sample site ----------------------------------------------------------------------------------


def cmd_sample_site(args: argparse.Namespace) -> int:
    from coopspider.sample_site import build_site, serve

    if args.day < 0:
        raise UserError(f"--day must be 0 or more, got {args.day}")
    site = build_site(
        articles=args.articles, markup=args.markup, grammar=args.grammar, day=args.day
    )
    try:
        server = serve(site, host=args.host, port=args.port)
    except OSError as error:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {error}") from error
    with server:
        # The hints first: whoever has read the URL may stop the server and find them written.
        for line in _sample_site_hints(args, server.base_url, site):
            print(line, file=sys.stderr, flush=True)
        print(server.base_url, flush=True)
        with suppress(KeyboardInterrupt):
            server.wait()
    return EXIT_OK


def _sample_site_hints(args: argparse.Namespace, url: str, site: SampleSite) -> list[str]:
    """What `sample-site` says on stderr: the day served, how to move on, how to crawl it."""
    from coopspider.profiles import builtin_profiles

    lines = [
        f"Day {args.day}: {len(site.articles)} articles, visitor counter {site.counter_total}. "
        f"Serve --day {args.day + 1} next (same --port) for new and edited articles and a "
        "higher counter."
    ]
    if args.grammar not in builtin_profiles():
        return [
            *lines,
            f"No site profile knows this grammar; learn it with: coopspider discover {url}",
        ]
    fast = " ".join(
        f"-s {name}={int(value) if isinstance(value, bool) else value}"
        for name, value in LOOPBACK_SETTINGS.items()
    )
    return [
        *lines,
        f"Crawl it as site {SAMPLE_SITE_NAME!r} (politeness off: it is your own loopback server; "
        "full=1 re-reads every article, so the edits are seen; LOG_LEVEL=WARNING shows the "
        "progress line):",
        f"  scrapy crawl lienminh -a site={SAMPLE_SITE_NAME} -a profile={args.grammar} "
        f"-a base_url={url} -a full=1 {fast} -s LOG_LEVEL=WARNING",
    ]


# -- sites --------------------------------------------------------------------------------------


def cmd_sites(args: argparse.Namespace) -> int:
    from coopspider.config import masked_url

    profiles = _profiles(args)
    rows = [(p.name, masked_url(p.base_url), p.platform) for p in profiles.values()]
    widths = [max(len(row[i]) for row in [("site", "base URL", ""), *rows]) for i in range(2)]
    print(f"{'site':<{widths[0]}}  {'base URL':<{widths[1]}}  platform")
    for name, base_url, platform in rows:
        print(f"{name:<{widths[0]}}  {base_url:<{widths[1]}}  {platform}")
    return EXIT_OK


# -- discover -------------------------------------------------------------------------------------


def cmd_discover(args: argparse.Namespace) -> int:
    import datetime as dt
    from urllib.parse import urlsplit

    from coopspider.config import CONFIG_FILE_NAME, Config, ConfigError, add_site_table, masked_url
    from coopspider.discovery.report import default_name, site_toml, summary
    from coopspider.profiles import SITE_NAME
    from coopspider.urls import split_login, with_login

    url = args.url.strip()
    shown = masked_url(url)  # a login in the URL is never printed
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{masked_url(args.url)!r} is not an http:// or https:// URL")
    name = args.name or default_name(url)
    if not SITE_NAME.fullmatch(name):
        raise UserError(f"--name {name!r}: use lower-case letters, digits, '-' and '_'")
    if args.max_requests < 3:
        raise UserError("--max-requests must be at least 3 (robots.txt, the page and one more)")
    if args.write and args.config and not Path(args.config).exists():
        config = Config()  # --write creates the file it names
    else:
        config = _config(args)
    config_file = Path(args.config) if args.config else (config.path or Path(CONFIG_FILE_NAME))
    if args.write and not args.force and name in config.site_tables:
        raise UserError(
            f"{config_file} has a [sites.{name}] table already; --force replaces it, "
            "--name picks another name"
        )
    overrides = {"LOG_LEVEL": args.log_level, **dict(_setting(text) for text in args.set)}
    print(f"Reading {shown} (at most {args.max_requests} requests)", file=sys.stderr, flush=True)
    started = time.monotonic()
    spider = _run_spider(
        "discover",
        overrides,
        url=url,
        max_requests=args.max_requests,
        progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
    )
    if spider.start_failure is not None:
        raise UserError(f"cannot read {shown}: {spider.start_failure}")
    result = spider.conclusion
    if result is None:
        print(
            "coopspider: discovery stopped before it was done (see the log above)", file=sys.stderr
        )
        return EXIT_FAILED
    for line in summary(name, result, time.monotonic() - started):
        print(line, file=sys.stderr)
    if not result.verified:
        print(f"coopspider: could not learn {shown}; nothing was written", file=sys.stderr)
        return EXIT_FAILED
    # The site may have moved (redirected): its new root, with the login the user gave.
    base_url = with_login(result.base_url, split_login(url)[1])
    table = site_toml(name, result, dt.date.today(), base_url)
    sys.stdout.write(site_toml(name, result, dt.date.today(), masked_url(base_url)))
    if args.write:
        try:
            replaced = add_site_table(config_file, name, table, replace=args.force)
        except ConfigError as error:
            raise UserError("; ".join(error.problems)) from error
        verb = "replaced in" if replaced else "written to"
        print(
            f"Verified; [sites.{name}] {verb} {config_file}. Crawl it with: "
            f"coopspider crawl --site {name}",
            file=sys.stderr,
        )
    else:
        print(
            f"Verified. Add the table above to {config_file} (or run again with --write), "
            f"then: coopspider crawl --site {name}",
            file=sys.stderr,
        )
    return EXIT_OK


# -- alert ----------------------------------------------------------------------------------------


def cmd_alert(args: argparse.Namespace) -> int:
    from coopspider.monitor.alert_job import EMAIL, send_alerts
    from coopspider.monitor.alert_send import SmtpSettings

    config = _config(args)
    settings = SmtpSettings.from_config(config)
    if not settings.recipients and not config.alerts.notify and not args.dry_run:
        raise UserError(
            "no recipients configured: set COOPSPIDER_ALERT_TO (comma-separated addresses) or "
            "[alerts] to, or COOPSPIDER_NOTIFY / [alerts] notify (Apprise URLs) in the "
            "configuration file, or print the digest with --dry-run"
        )
    database = _open(args, read_only=args.dry_run, create=False)  # no archive, nothing to send
    _require_known_site(args, database)
    outcome = send_alerts(
        database,
        settings,
        notify_targets=config.alerts.notify,
        link=config.report_url,
        dry_run=args.dry_run,
        site=args.site,
    )
    for text in outcome.previews:
        print(text)
    for message in outcome.sent:
        again = " again (an earlier attempt may have arrived)" if message.resent else ""
        to = ", ".join(settings.recipients) if message.channel == EMAIL else message.channel
        print(f"Sent{again} to {to}: {message.subject}")
        if message.refused:
            print(
                f"coopspider: warning: the SMTP server refused {', '.join(message.refused)}",
                file=sys.stderr,
            )
    for failure in outcome.failures:
        print(f"coopspider: {failure.line}", file=sys.stderr)
    if outcome.failures:
        retry = (
            "coopspider: the same changes go out with the next successful `coopspider alert`"
            if len(outcome.failures) == 1 and not outcome.sent
            else "coopspider: what those channels missed goes to them with the next "
            "`coopspider alert`; the others are not sent it again"
        )
        if outcome.maybe_delivered:
            retry += " (this message may have arrived: it will be sent again as it is)"
        print(retry, file=sys.stderr)
        return EXIT_ALERTS_NOT_SENT
    if outcome.nothing_to_send:
        print("Nothing to alert: every change has been sent already.")
    return EXIT_OK


# -- scheduled runs -------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from coopspider.cycle import (
        RunContext,
        RunInterrupted,
        cycle_steps,
        run_cycle,
        run_lock,
        select_sites,
    )
    from storage import LockHeld, LockUnavailable

    config = _config(args)
    database_url = _database_url(args)
    try:
        sites = select_sites(config, args.site, args.base_url, _profiles(args))
    except ValueError as error:
        raise UserError(str(error)) from error
    settings = dict(_setting(text) for text in args.set)
    crawl_step = _scrapyd_step(args, config, database_url, sites)
    started = time.monotonic()
    try:
        # A database the run cannot open or write: one line, exit 2, before any crawl.
        with _open(args) as database, run_lock(config, database_url, database):
            context = RunContext(
                config=config,
                database_url=database_url,
                sites=sites,
                full=args.full,
                scrapy_settings=settings,
                log_level=args.log_level,
            )
            code, lines = run_cycle(context, cycle_steps(crawl_step))
    except LockHeld as locked:
        print(f"coopspider: another run holds the lock {locked}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    except RunInterrupted:
        return EXIT_INTERRUPTED  # the crawl said so on stderr, in one line
    except KeyboardInterrupt:  # between crawls, or during the diff or the alert
        print("coopspider: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except LockUnavailable as error:
        raise UserError(str(error)) from error
    verdict = "all went well" if code == EXIT_OK else f"exit code {code}"
    print(f"Run finished in {time.monotonic() - started:.0f} s: {verdict}")
    for line in lines:
        print(f"  {line}")
    return code


def _scrapyd_step(
    args: argparse.Namespace, config: Config, database_url: str, sites: list[SiteConfig]
) -> Step | None:
    """The crawl step handing the crawls to Scrapyd nodes (--scrapyd, else [scrapyd] nodes),
    or None to crawl here; UserError when they cannot take this run."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from coopspider.config import masked_url, node_urls
    from coopspider.scrapyd_nodes import ScrapydCrawlStep, login_problem, nodes_of

    if args.here:
        return None
    if args.scrapyd is not None:
        try:
            urls = node_urls(args.scrapyd)
        except ValueError as error:
            raise UserError(f"--scrapyd: {error}") from error
        where = "--scrapyd"
    else:
        urls, where = list(config.scrapyd.nodes), config.source_of("scrapyd.nodes")
    if not urls:
        return None
    try:
        backend = make_url(database_url).get_backend_name()
    except ArgumentError:
        backend = None  # opening it says what is wrong with it
    if backend == "sqlite":
        raise UserError(
            f"Scrapyd nodes ({where}) need an archive they can all write to: the archive "
            f"{masked_url(database_url)} is a SQLite file on this machine; set "
            "COOPSPIDER_DATABASE_URL to a PostgreSQL URL"
        )
    if problem := login_problem(sites):
        raise UserError(problem)
    return ScrapydCrawlStep(nodes_of(urls, config.scrapyd.username, config.scrapyd.password))


def _setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise UserError(f"-s expects NAME=VALUE, got {text!r}")
    return name.strip(), value


def cmd_config_check(args: argparse.Namespace) -> int:
    from coopspider.config import CONFIG_FILE_NAME, describe, effective_database_url
    from coopspider.cycle import run_lock_in_use

    config = _config(args, check_sites=True)  # every problem at once
    if config.path is None:
        print(
            f"No configuration file ({CONFIG_FILE_NAME} is not in {Path.cwd()}): "
            "the environment and the built-in defaults apply."
        )
    else:
        print(f"{config.path}: valid")
    database = effective_database_url(config, args.database)
    for line in describe(config, database, run_lock_in_use(config, database)):
        print(line)
    return EXIT_OK


# -- diff and history -----------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace) -> int:
    from coopspider.monitor.diff import build_diff, load_facts
    from coopspider.monitor.text_render import render_diff

    database = _open(args, read_only=True)
    _require_known_site(args, database)
    with database.read() as connection:
        facts = load_facts(connection, site=args.site)
    if args.site and not facts:
        raise UserError(f"no completed crawl of site {args.site!r} in the archive")
    report = build_diff(facts)
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        sys.stdout.write(render_diff(report))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from coopspider.monitor.history import find_article, load_history
    from coopspider.monitor.text_render import render_history

    database = _open(args, read_only=True)
    with database.read() as connection:
        article = find_article(connection, args.url)
        if article is None:
            raise UserError(f"no archived article at {args.url}")
        history = load_history(connection, article)
    if args.json:
        json.dump(history, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        sys.stdout.write(render_history(history))
    return EXIT_OK


def cmd_evidence(args: argparse.Namespace) -> int:
    from coopspider.monitor.history import find_article
    from storage.warc import WarcMissing, article_records, capture_kinds, write_evidence

    out = Path(args.out)
    if not out.name.endswith(".warc.gz") or out.name == ".warc.gz":
        raise UserError(f"--out names a gzip WARC file ending in .warc.gz, got {args.out!r}")
    if not out.parent.is_dir():
        raise UserError(f"--out: no folder {out.parent}")
    warc_dir = Path(args.warc_dir) if args.warc_dir else _config(args).warc.dir
    database = _open(args, read_only=True)
    with database.session() as session:
        article = find_article(session, args.url)
        if article is None:
            raise UserError(f"no archived article at {args.url}")
        records = article_records(session, [article.id])
        kinds = capture_kinds(session, records)
    if not records:
        raise UserError(
            f"the archive holds no WARC record of {article.url}: it was archived with WARC "
            "writing off, or before coopspider wrote WARC files"
        )
    try:
        write_evidence(warc_dir, records, kinds, out)
    except (WarcMissing, ValueError) as error:
        raise UserError(f"{error}; nothing written") from error
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from error
    count = len(records)
    print(f"{out}: {count} capture{'' if count == 1 else 's'} of {article.url}")
    for record in records:
        fetched = record.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"  {fetched}  HTTP {record.status}  {kinds[record.id]}")
    return EXIT_OK


# -- search ---------------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    from storage.content import UTC_PLUS_7
    from storage.fulltext import check_query, count_matches, query_words, search

    try:
        check_query(args.query, args.limit)
    except ValueError as error:
        raise UserError(str(error)) from error
    if not query_words(args.query):
        raise UserError(f"nothing to search for in {args.query!r}: give at least one word")
    database = _open(args, read_only=True)
    _require_known_site(args, database)
    with database.read() as connection:
        hits = search(connection, args.query, site=args.site, limit=args.limit)
        total = len(hits)
        if total == args.limit:  # there may be more than the limit shows
            total = count_matches(connection, args.query, site=args.site)
    for hit in hits:
        published = hit.published_at
        day = published.astimezone(UTC_PLUS_7).date().isoformat() if published else "-" * 10
        removed = "  (removed from the site)" if hit.removed_at else ""
        print(f"{day}  {hit.title}  <{hit.url}>{removed}")
    shown = f"; the best {len(hits)} shown (--limit)" if total > len(hits) else ""
    print(f"{total} articles match {args.query!r}{shown}", file=sys.stderr)
    return EXIT_OK


# -- report ---------------------------------------------------------------------------------------


def _open_for_days(args: argparse.Namespace) -> Database:
    """The archive opened for reading, for the changes of the last --days days of --site: both
    checked first."""
    if args.days < 1:
        raise UserError(f"--days must be at least 1, not {args.days}")
    database = _open(args, read_only=True)
    _require_known_site(args, database)
    return database


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from coopspider.monitor.report_data import build_report, load_report_source
    from coopspider.monitor.report_html import report_feed, summary_line, write_report

    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} exists and is not a directory")
    database = _open_for_days(args)
    with database.read() as connection:
        source = load_report_source(
            connection, now=datetime.now(UTC), days=args.days, site=args.site
        )
        report = build_report(source)
    try:
        index = write_report(report, out_dir, report_feed(source))
    except OSError as error:
        raise UserError(f"cannot write the report into {out_dir}: {error}") from error
    print(summary_line(report))
    print(f"Report written: {index.resolve().as_uri()}")
    return EXIT_OK


def cmd_feed(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from coopspider.monitor.feed import feed_of_source, load_feed_source, summary_line, write_feed

    out = Path(args.out)
    if out.is_dir():
        raise UserError(f"{out} is a directory; --out takes the path of the feed file")
    if not out.parent.is_dir():
        raise UserError(f"cannot write the feed to {out}: no directory {out.parent}")
    database = _open_for_days(args)
    with database.read() as connection:
        source = load_feed_source(connection, now=datetime.now(UTC), days=args.days, site=args.site)
    feed = feed_of_source(source)
    try:
        write_feed(feed, out)
    except OSError as error:
        raise UserError(f"cannot write the feed to {out}: {error.strerror or error}") from error
    print(summary_line(feed))
    print(f"Feed written: {out.resolve().as_uri()}")
    return EXIT_OK


# -- the command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from coopspider.profiles import builtin_profiles
    from coopspider.sample_site.grammars import GRAMMARS

    parser = argparse.ArgumentParser(
        prog="coopspider",
        description="Archive and monitor the news of Vietnam's provincial Cooperative Alliances.",
    )
    _add_global_options(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    crawl = commands.add_parser(
        "crawl",
        help="crawl a site into the archive and list what it holds",
        description="Run the lienminh spider (like `scrapy crawl lienminh`) and summarise.",
    )
    crawl.add_argument("--base-url", help="site root (default: the site profile's)")
    crawl.add_argument(
        "--site",
        help="site profile to crawl (see `coopspider sites`; default thaibinh); with --base-url "
        "any other name files a new site on the thaibinh grammar; with --sample a profile name "
        "serves the sample site in that profile's URL grammar",
    )
    crawl.add_argument(
        "--sample",
        action="store_true",
        help="serve the bundled sample site on 127.0.0.1 and crawl that",
    )
    crawl.add_argument(
        "--full",
        action="store_true",
        help="walk every listing page and fetch every article again (default: incremental)",
    )
    crawl.add_argument(
        "--show",
        type=int,
        default=30,
        metavar="N",
        help="list at most N archived articles (default 30)",
    )
    _add_scrapy_settings(crawl)
    _add_log_level(crawl, "WARNING", "Scrapy log level")
    crawl.set_defaults(handler=cmd_crawl)

    extract = commands.add_parser(
        "extract",
        help="print the fields read from one article page as JSON",
        description="Read one saved file or live URL and print what the spider would store.",
    )
    extract.add_argument("source", metavar="PATH_OR_URL")
    extract.add_argument("--url", help="the URL a saved page came from (resolves links and ids)")
    extract.add_argument(
        "--date-order", choices=["DMY", "MDY"], help="default: the site profile's, else DMY"
    )
    extract.add_argument(
        "--site",
        metavar="NAME",
        help="read the page with this site profile (default: the profile of the URL's host)",
    )
    extract.add_argument(
        "--explain",
        action="store_true",
        help="for each field, print which evidence won (selector, JSON-LD, meta, label, "
        "structure) and the value, instead of JSON",
    )
    extract.add_argument("--timeout", type=float, default=30.0, help="seconds for a live fetch")
    extract.set_defaults(handler=cmd_extract)

    export = commands.add_parser(
        "export",
        help="print the archived articles as JSON lines or CSV",
        description="Write the archive's articles (the latest version of each, or every "
        "version) to standard output.",
    )
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--site", help="only this site")
    export.add_argument(
        "--since",
        metavar="DATE",
        help="only versions first archived on or after DATE (YYYY-MM-DD, Vietnam time, or an "
        "ISO 8601 time): the articles new or edited since then",
    )
    export.add_argument(
        "--versions",
        action="store_true",
        help="every archived version of each article (with its version number), not only "
        "the latest",
    )
    export.add_argument(
        "--bom",
        action="store_true",
        help="start the CSV with a UTF-8 byte order mark, for spreadsheet software",
    )
    export.set_defaults(handler=cmd_export)

    sample = commands.add_parser(
        "sample-site",
        help="serve the bundled sample site on 127.0.0.1",
        description="Serve realistic pages in a real platform's URL grammar; prints the root URL.",
    )
    sample.add_argument("--host", default="127.0.0.1")
    sample.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    sample.add_argument(
        "--markup", choices=["portal", "classic"], help="default: the grammar's usual markup"
    )
    sample.add_argument(
        "--grammar",
        choices=sorted(GRAMMARS),
        default="thaibinh",
        help="URL grammar: a site profile's platform, or one no profile knows "
        f"({', '.join(sorted(set(GRAMMARS) - set(builtin_profiles())))}); default thaibinh",
    )
    sample.add_argument("--articles", type=int, default=24)
    sample.add_argument(
        "--day",
        type=int,
        default=0,
        metavar="N",
        help="serve the site N days on: 2 new articles a day, 2 earlier ones edited, the "
        "visitor counter higher (default 0; the same N always serves the same pages)",
    )
    sample.set_defaults(handler=cmd_sample_site)

    sites = commands.add_parser(
        "sites",
        help="list the site profiles",
        description="List the site profiles a crawl can use: name, base URL, platform.",
    )
    sites.set_defaults(handler=cmd_sites)

    discover = commands.add_parser(
        "discover",
        help="learn an alliance site's URL grammar and write its [sites.NAME] table",
        description="Read the site at URL the way a crawl does (robots.txt, politeness, our "
        "User-Agent) and learn from its own links which URLs are articles, which are category "
        "listings and how listings are paginated; check it (5 articles read, a listing followed "
        "to its later pages) and print the [sites.NAME] table the configuration file takes. "
        "Exit codes: 0 learned and verified, 1 could not learn the site (what was seen is "
        "printed), 2 bad input (not http(s), unreachable, robots.txt forbids).",
    )
    discover.add_argument("url", metavar="URL", help="the site's home page")
    discover.add_argument(
        "--name", help="the site's name in the archive (default: from the host name)"
    )
    discover.add_argument(
        "--write",
        action="store_true",
        help="add the table to the configuration file (--config, else ./coopspider.toml, "
        "created if missing); other tables and comments are kept",
    )
    discover.add_argument(
        "--force", action="store_true", help="with --write, replace a table of that name"
    )
    discover.add_argument(
        "--max-requests",
        type=int,
        default=40,
        metavar="N",
        help="fetch at most N pages, robots.txt included (default 40)",
    )
    _add_scrapy_settings(discover)
    _add_log_level(discover, "WARNING", "Scrapy log level")
    discover.set_defaults(handler=cmd_discover)

    alert = commands.add_parser(
        "alert",
        help="send one digest of the changes not alerted yet (e-mail, chat channels)",
        description="Send one e-mail with every change (new, edited, removed reports, counter "
        "anomalies, crawl health problems) not alerted yet, exactly once, and a short message "
        "(subject, counts, report link) to each Apprise channel, exactly once each. SMTP "
        "settings come from COOPSPIDER_SMTP_HOST, _PORT, _USER, _PASSWORD, _SECURITY "
        "(none/starttls/ssl), COOPSPIDER_ALERT_FROM and COOPSPIDER_ALERT_TO (comma-separated); "
        "channels from COOPSPIDER_NOTIFY (comma-separated Apprise URLs such as "
        "tgram://BOT_TOKEN/CHAT_ID) or [alerts] notify; the link from COOPSPIDER_REPORT_URL or "
        f"[report] url. Exit codes: 0 sent or nothing to send, {EXIT_USAGE} bad settings, "
        f"{EXIT_ALERTS_NOT_SENT} the SMTP server or a channel was down or refused (what it "
        "missed goes to it next time; the others are not sent it again).",
    )
    alert.add_argument(
        "--dry-run", action="store_true", help="print the message instead of sending it"
    )
    alert.add_argument("--site", help="only the changes of this site")
    alert.set_defaults(handler=cmd_alert)

    run = commands.add_parser(
        "run",
        help="the scheduled cycle: crawl every configured site, then diff and alert",
        description="Crawl each configured site (each in its own process; one failing does not "
        "stop the others), then the diff and the alert, under a lock so runs never overlap. "
        "Exit codes: 0 all went well, 3 alerts not sent, 4 a crawl failed, 75 another run holds "
        "the lock, 2 bad arguments or configuration. With --scrapyd (or [scrapyd] nodes) each "
        "site's crawl is a job of a Scrapyd node instead; the diff and the alert run here.",
    )
    run.add_argument("--site", metavar="NAME", help="only this site (default: every configured)")
    run.add_argument("--base-url", metavar="URL", help="crawl this root instead (one site)")
    run.add_argument(
        "--full",
        action="store_true",
        help="walk every listing page again instead of stopping at known articles",
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--here",
        action="store_true",
        help="crawl on this machine even when [scrapyd] nodes are configured",
    )
    where.add_argument(
        "--scrapyd",
        metavar="URL[,URL...]",
        help="crawl each site as a job of these Scrapyd nodes (overrides [scrapyd] nodes); "
        "the archive must be PostgreSQL, which the nodes name in their own "
        "COOPSPIDER_DATABASE_URL",
    )
    _add_scrapy_settings(run, " for every crawl")
    _add_log_level(run, "INFO", "Scrapy log level of the crawls (their log goes to stderr)")
    run.set_defaults(handler=cmd_run)

    config = commands.add_parser(
        "config",
        help="check the configuration file",
        description="Work with the configuration file (coopspider.toml or --config PATH).",
    )
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_commands.add_parser(
        "check",
        help="validate the configuration and show the effective settings",
        description="Validate the configuration file and the COOPSPIDER_* environment "
        "variables; print the effective settings with secrets masked and where each came from. "
        "Exit 0 when valid, 2 with one line per problem when not.",
    )
    check.set_defaults(handler=cmd_config_check)

    diff = commands.add_parser(
        "diff",
        help="what the latest crawl of each site found new, edited or removed",
        description="Report the changes the latest crawl of each site recorded, compared with "
        "what the archive held before it: new, edited (word by word), removed and restored "
        "articles, the visitor counter with its anomalies, and errors. The JSON document has "
        'the keys "new", "changed", "removed", "restored", "baseline", "counters", "errors".',
    )
    diff.add_argument("--json", action="store_true", help="print one JSON document")
    diff.add_argument("--site", help="only this site")
    diff.set_defaults(handler=cmd_diff)

    history = commands.add_parser(
        "history",
        help="every archived version of one article, with the edits between them",
        description="Show each stored version of the article at URL (the same id under another "
        "category path or scheme is found too) and the word-level changes between versions.",
    )
    history.add_argument("url", metavar="URL")
    history.add_argument("--json", action="store_true", help="print one JSON document")
    history.set_defaults(handler=cmd_history)

    evidence = commands.add_parser(
        "evidence",
        help="every capture of one article as one standalone WARC file",
        description="Write the pages the archive kept of the article at URL as served (each "
        "version's page and the 404/410 that removed it, with their request records) to one "
        "standalone gzip WARC file, which ReplayWeb.page, pywb and warcio read. The same id under "
        "another category path or scheme is found too.",
    )
    evidence.add_argument("url", metavar="URL")
    evidence.add_argument(
        "--out", required=True, metavar="FILE.warc.gz", help="the WARC file to write (replaced)"
    )
    evidence.add_argument(
        "--warc-dir",
        metavar="DIR",
        help="where the crawls' WARC files are (default: $COOPSPIDER_WARC_DIR, else warc.dir in "
        "the configuration file, else data/warc)",
    )
    evidence.set_defaults(handler=cmd_evidence)

    search = commands.add_parser(
        "search",
        help="find archived articles by words of their title or text",
        description="Full-text search over the latest version of every archived article; "
        "accents and case do not matter (`hop tac xa dong quy` finds `Hợp tác xã Đông Quý`). "
        "Prints the date, title and URL of each hit, best match first.",
    )
    search.add_argument("query", metavar="QUERY", help="words that must all occur")
    search.add_argument("--site", help="only this site")
    search.add_argument("--limit", type=int, default=20, metavar="N", help="at most N hits (20)")
    search.set_defaults(handler=cmd_search)

    report = commands.add_parser(
        "report",
        help="write a static HTML report: changes, the visitor counter chart, crawl health",
        description="Write an HTML report (opens from disk, works offline) of the new, edited "
        "and removed articles found by the crawls of the last days, the visitor counter per "
        "day, the crawl runs, and a page per article with all its archived versions; and the "
        "Atom feed of the same changes (feed.atom, linked from index.html).",
    )
    report.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    report.add_argument("--site", help="only this site")
    report.add_argument(
        "--days", type=int, default=30, metavar="N", help="cover the last N days (default 30)"
    )
    report.set_defaults(handler=cmd_report)

    feed = commands.add_parser(
        "feed",
        help="write an Atom feed of the changes: new, edited, removed, restored, counter anomalies",
        description="Write an Atom 1.0 feed of the change events the crawls of the last days "
        "recorded (new, edited, removed and restored articles, visitor counter anomalies), "
        "newest first: each entry links the article and sums the change up in Vietnamese with "
        "an excerpt of the word diff; its id stays the same every time the feed is written, so "
        "a feed reader shows each change once. `report` writes the same feed as feed.atom "
        "beside index.html.",
    )
    feed.add_argument("--out", required=True, metavar="FILE", help="the feed file to write")
    feed.add_argument("--site", metavar="NAME", help="only this site")
    feed.add_argument(
        "--days", type=int, default=30, metavar="N", help="cover the last N days (default 30)"
    )
    feed.set_defaults(handler=cmd_feed)
    # The global options are accepted after the command too: SUPPRESS keeps a value given before.
    for command in [*commands.choices.values(), check]:
        _add_global_options(command, default=argparse.SUPPRESS)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        default=default,
        help="SQLAlchemy database URL (default: $COOPSPIDER_DATABASE_URL, else database.url "
        "in the configuration file, else sqlite:///data/coopspider.sqlite3)",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="configuration file (default: coopspider.toml in the working directory, if any)",
    )


def _add_scrapy_settings(parser: argparse.ArgumentParser, scope: str = "") -> None:
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"Scrapy setting{scope}, e.g. -s DOWNLOAD_DELAY=5 (repeatable; wins over the "
        "site profile's politeness)",
    )


def _add_log_level(parser: argparse.ArgumentParser, default: str, help_text: str) -> None:
    parser.add_argument("--log-level", default=default, choices=LOG_LEVELS, help=help_text)


class _PrintableStream:
    """A text stream that drops the control characters of what it is given (tab, line feed and
    carriage return pass): archived page text never reaches a terminal as escape sequences."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(strip_controls(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not isinstance(sys.stdout, _PrintableStream):
        sys.stdout = _PrintableStream(sys.stdout)
    try:
        return args.handler(args)
    except UserError as error:
        print(f"coopspider: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
