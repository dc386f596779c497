"""One scheduled run (`coopspider run`): under a lock, crawl each site, then diff, then alert.

The run is a sequence of steps sharing one `RunContext`. A step does its work, may leave facts in
the context for the steps after it (the crawl leaves one `CrawlOutcome` per site), and returns a
`StepOutcome`: whether it went well and a few lines for the summary. Every step runs even when an
earlier one failed (the alert must still report a failed crawl); the exit code is the failure code
of the first step that failed (see coopspider.exitcodes).

Each site is crawled by `scrapy crawl lienminh` in its own child process: a site that fails or
hangs cannot take the others down, and Twisted's reactor, which cannot be restarted in one
process, starts fresh for each site.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coopspider.config import DEFAULT_SITE, Config, SiteConfig, archive_problem, masked_url
from coopspider.exitcodes import (
    EXIT_ALERTS_NOT_SENT,
    EXIT_CRAWL_FAILED,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
)
from coopspider.processes import dying_with_this_process
from coopspider.profiles import SITE_TABLES_ENV
from coopspider.urls import host_of

if TYPE_CHECKING:
    from coopspider.monitor.alert_send import SmtpSettings
    from storage import Database
    from storage.models import CrawlRun

SPIDER = "lienminh"
# After CLOSESPIDER_TIMEOUT asks the spider to stop, this long to finish writing before a kill.
STOP_GRACE_S = 300
DEFAULT_LOCK_FILE = Path("data/coopspider.lock")
# The name of the run lock in a PostgreSQL archive.
RUN_LOCK = "coopspider run"


# -- which sites ----------------------------------------------------------------------------------


def select_sites(
    config: Config, site: str | None, base_url: str | None, profiles: Collection[str] = ()
) -> list[SiteConfig]:
    """The sites one run crawls: every configured one, or `site` alone (a configured site or a
    site `profiles` knows); `base_url` overrides.

    With no site configured the run crawls the default site (thaibinh) at the spider's default
    root, or, given `base_url` alone, that root under its host name as `scrapy crawl` would.
    Raises ValueError with a message for the user.
    """
    configured = dict(config.sites)
    if site is not None:
        if site in configured:
            chosen = [configured[site]]
        elif base_url or site in profiles or (site == DEFAULT_SITE and not configured):
            chosen = [SiteConfig(name=site)]
        else:
            known = ", ".join(sorted({*configured, *profiles})) or DEFAULT_SITE
            raise ValueError(f"no site {site!r} in the configuration or the profiles ({known})")
    elif configured:
        chosen = list(configured.values())
    else:
        chosen = [SiteConfig(name=host_of(base_url) if base_url else DEFAULT_SITE)]
    if base_url:
        if len(chosen) > 1:
            names = ", ".join(s.name for s in chosen)
            raise ValueError(f"--base-url is one site's root: add --site NAME (sites: {names})")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"--base-url must start with http:// or https://, got {base_url!r}")
        chosen = [replace(chosen[0], base_url=base_url)]
    return chosen


# -- the lock -------------------------------------------------------------------------------------


def default_lock_file(database_url: str) -> Path:
    """Next to a SQLite database file; for other databases, data/coopspider.lock."""
    from sqlalchemy.exc import ArgumentError

    from storage import sqlite_file

    try:
        path = sqlite_file(database_url)
    except ArgumentError:
        return DEFAULT_LOCK_FILE
    return DEFAULT_LOCK_FILE if path is None else path.with_name(path.name + ".lock")


def lock_file_for(config: Config, database_url: str) -> Path:
    """The configured lock file, else the default one for this database."""
    return config.run.lock_file or default_lock_file(database_url)


def uses_advisory_lock(dialect: str | None) -> bool:
    """Whether runs on an archive of this kind ("sqlite", "postgresql") are kept apart by the
    archive's own advisory lock, which every machine writing to it sees, rather than by the
    lock file, which only this machine's processes see (all a SQLite file can have)."""
    return dialect == "postgresql"


def run_lock_in_use(config: Config, database: tuple[str, str]) -> tuple[str, str]:
    """What keeps runs apart on the archive `database` ((URL, where it came from), as
    config.effective_database_url gives it), as `config check` shows run.lock_file: the lock
    file and its source, or, for a PostgreSQL archive, the advisory lock and the source of the
    URL that makes it one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url, url_source = database
    try:
        dialect = make_url(url).get_backend_name()
    except ArgumentError:
        dialect = None
    if uses_advisory_lock(dialect):
        advisory = f'not used: runs take the advisory lock "{RUN_LOCK}" of the PostgreSQL archive'
        return advisory, url_source
    return str(lock_file_for(config, url)), config.source_of("run.lock_file")


@contextmanager
def run_lock(config: Config, database_url: str, database: Database) -> Iterator[None]:
    """Hold the lock that keeps runs from overlapping for the block; storage.LockHeld at once
    if another run holds it.

    A PostgreSQL archive: its advisory lock, which keeps apart runs on every machine writing to
    it. SQLite: the file lock (run.lock_file), as only this machine can write the file.
    """
    from storage import archive_lock, file_lock

    if uses_advisory_lock(database.dialect):
        with archive_lock(database, RUN_LOCK):
            yield
    else:
        with file_lock(lock_file_for(config, database_url)):
            yield


# -- steps ----------------------------------------------------------------------------------------


@dataclass
class CrawlOutcome:
    """How one site's crawl went."""

    site: str
    failure: str | None  # None when the crawl went well, else why it failed
    run_id: int | None  # the crawl_runs row, when the crawl got that far
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class RunContext:
    """What every step of one run sees; steps add their facts for the later steps."""

    config: Config
    database_url: str
    sites: list[SiteConfig]
    full: bool = False  # walk every listing page again (-a full=1)
    scrapy_settings: dict[str, str] = field(default_factory=dict)  # -s NAME=VALUE for each crawl
    log_level: str = "INFO"
    crawls: list[CrawlOutcome] = field(default_factory=list)  # filled by the crawl step


@dataclass
class StepOutcome:
    """A step's verdict and its lines for the summary."""

    ok: bool
    lines: list[str] = field(default_factory=list)


class Step(Protocol):
    """One step of the cycle."""

    name: str
    failure_code: int  # the run's exit code when this is the first step that failed

    def run(self, context: RunContext) -> StepOutcome: ...


class CrawlStep:
    """Crawl each site in a child process; a site that fails does not stop the others."""

    name = "crawl"
    failure_code = EXIT_CRAWL_FAILED

    def run(self, context: RunContext) -> StepOutcome:
        lines = []
        # Opening applies any pending migration once, before the first child crawls.
        with step_database(context.database_url) as database:
            for site in context.sites:
                root = masked_url(site.base_url) if site.base_url else "default root"
                print(f"Crawling {site.name} ({root})", flush=True)
                outcome = crawl_site(context, site, database)
                context.crawls.append(outcome)
                lines.append(describe_crawl(outcome))
        return StepOutcome(all(outcome.ok for outcome in context.crawls), lines)


class DiffStep:
    """Summarise what each crawl of this run found (the change events `coopspider diff` reads)."""

    name = "diff"
    failure_code = EXIT_FAILED

    def run(self, context: RunContext) -> StepOutcome:
        from coopspider.monitor.diff import build_diff, load_facts

        # A failed crawl recorded no changes: its line from the crawl step says why.
        sites = [crawl.site for crawl in context.crawls if crawl.ok]
        if not sites:
            return StepOutcome(True, ["diff: no crawl went well, nothing to compare"])
        with step_database(context.database_url) as database, database.session() as session:
            reports = {site: build_diff(load_facts(session, site=site)) for site in sites}
        return StepOutcome(True, [describe_changes(site, reports[site]) for site in sites])


class AlertStep:
    """Send the digest of every change not alerted yet; print it when nobody is to receive it."""

    name = "alert"
    failure_code = EXIT_ALERTS_NOT_SENT

    def run(self, context: RunContext) -> StepOutcome:
        from coopspider.monitor.alert_job import send_alerts
        from coopspider.monitor.alert_send import SmtpSettings

        config = context.config
        settings = SmtpSettings.from_config(config)
        # A run of one site alerts that site's changes; a run of all, every site's.
        site = context.sites[0].name if len(context.sites) == 1 else None
        dry_run = not settings.recipients and not config.alerts.notify
        with step_database(context.database_url) as database:
            outcome = send_alerts(
                database,
                settings,
                notify_targets=config.alerts.notify,
                link=config.report_url,
                dry_run=dry_run,
                site=site,
            )
        for text in outcome.previews:
            print(text, flush=True)
        lines = [
            f"alert: sent to {_receiver(settings, message.channel)}: {message.subject}"
            for message in outcome.sent
        ]
        if outcome.failures:
            lines += [
                f"alert: NOT sent to {_receiver(settings, failure.channel)} ({failure.error}); "
                "the changes go with the next run"
                for failure in outcome.failures
            ]
            return StepOutcome(False, lines)
        if outcome.nothing_to_send:
            return StepOutcome(True, ["alert: nothing new to send"])
        if dry_run:
            return StepOutcome(True, ["alert: no recipients configured, the digest is above"])
        return StepOutcome(True, lines)


def _receiver(settings: SmtpSettings, channel: str) -> str:
    """The recipients of the e-mail channel, else the channel (its secrets masked)."""
    from coopspider.monitor.alert_job import EMAIL

    return ", ".join(settings.recipients) if channel == EMAIL else channel


class DatabaseUnavailable(Exception):
    """The archive cannot be opened: the step fails with this one line, no traceback."""


@contextmanager
def step_database(database_url: str) -> Iterator[Database]:
    """The opened archive for one step, its connections closed afterwards."""
    from storage import open_database

    try:
        database = open_database(database_url)
    except Exception as error:
        problem = archive_problem(database_url, error)
        if problem is None:
            raise
        raise DatabaseUnavailable(problem) from error
    try:
        yield database
    finally:
        database.close()


def describe_changes(site: str, report: dict[str, Any]) -> str:
    """One summary line of what the latest crawl of `site` found."""
    counts = {
        kind: sum(1 for entry in report[kind] if entry.get("site") == site)
        for kind in ("new", "changed", "removed", "restored")
    }
    baseline = [entry for entry in report["baseline"] if entry.get("site") == site]
    if baseline:
        return f"{site}: first crawl, {baseline[0]['articles']} articles archived as the baseline"
    line = (
        f"{site}: {counts['new']} new, {counts['changed']} edited, {counts['removed']} removed, "
        f"{counts['restored']} restored articles"
    )
    anomalies = [
        anomaly["anomaly"]
        for counter in report["counters"]
        if counter.get("site") == site
        for anomaly in counter.get("anomalies", [])
    ]
    return line + (f"; counter anomaly: {', '.join(anomalies)}" if anomalies else "")


def cycle_steps(crawl: Step | None = None) -> list[Step]:
    """The steps of one run, in order: crawl (here, unless another crawl step is given: the
    Scrapyd one), then diff, then alert."""
    return [crawl or CrawlStep(), DiffStep(), AlertStep()]


def run_cycle(context: RunContext, steps: Sequence[Step]) -> tuple[int, list[str]]:
    """Run every step in order; (exit code, summary lines)."""
    code = EXIT_OK
    lines: list[str] = []
    for step in steps:
        try:
            outcome = step.run(context)
        except RunInterrupted:
            raise  # the user stopped the run: no further step
        except DatabaseUnavailable as error:
            outcome = StepOutcome(False, [f"{step.name}: {error}"])
        except Exception as error:  # noqa: BLE001 - one broken step must not hide the others
            traceback.print_exc(file=sys.stderr)
            outcome = StepOutcome(False, [f"{step.name} step failed: {error}"])
        lines.extend(outcome.lines)
        if not outcome.ok and code == EXIT_OK:
            code = step.failure_code
    return code, lines


# -- one site's crawl -----------------------------------------------------------------------------


def crawl_arguments(context: RunContext, site: SiteConfig) -> tuple[dict[str, str], dict[str, str]]:
    """(spider arguments, Scrapy settings) of one site's crawl, local or as a Scrapyd job:
    nothing secret in them (see crawl_environment).

    The base URL is an argument only when it is not the one the site tables give (--base-url),
    so a login in the configured one stays out of them.
    """
    configured = context.config.sites.get(site.name, SiteConfig(site.name)).base_url
    arguments = {"site": site.name}
    if site.base_url is not None and site.base_url != configured:
        arguments["base_url"] = site.base_url
    # The revisit window of incremental crawls (the spider's REVISIT_DAYS / REVISIT_OLD_DAYS).
    for key in ("revisit_days", "revisit_old_days"):
        if getattr(site, key) is not None:
            arguments[key] = str(getattr(site, key))
    if context.full:
        arguments["full"] = "1"
    settings = {
        "LOG_LEVEL": context.log_level,
        # Asks the spider to stop and record the run as cut short; the hard limit is later.
        "CLOSESPIDER_TIMEOUT": f"{context.config.run.timeout:g}",
        **context.config.warc.crawl_settings(),
    }
    settings.update(context.scrapy_settings)
    return arguments, settings


def crawl_command(context: RunContext, site: SiteConfig) -> list[str]:
    """The `scrapy crawl` command line for one site."""
    arguments, settings = crawl_arguments(context, site)
    command = [sys.executable, "-m", "scrapy", "crawl", SPIDER]
    for name, value in arguments.items():
        command += ["-a", f"{name}={value}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def crawl_environment(context: RunContext) -> dict[str, str]:
    """The environment of every crawl: what may hold a password goes here, not on the command
    line, where `ps` shows it to every user of the machine."""
    from storage import DATABASE_URL_ENV

    return {
        **os.environ,
        # The project's settings, whatever the working directory (where relative SQLite paths
        # and the configuration live) holds.
        "SCRAPY_SETTINGS_MODULE": "coopspider.settings",
        DATABASE_URL_ENV: context.database_url,
        # The [sites.NAME] tables, a base URL's login included: the spider applies them to the
        # site profiles (categories, date order, URL patterns, selectors, politeness).
        SITE_TABLES_ENV: json.dumps(context.config.site_tables, ensure_ascii=False),
    }


class RunInterrupted(Exception):
    """Ctrl-C (SIGINT) stopped the run during the crawl of `site`: its crawl has recorded its
    run as interrupted; the run starts nothing more."""

    def __init__(self, site: str) -> None:
        super().__init__(f"interrupted during the crawl of {site}")
        self.site = site


class StopSignalsForwarded:
    """SIGINT and SIGTERM received by `run` while a crawl runs are passed on to the crawl (which
    runs in its own process group, out of reach of the terminal's and of timeout(1)'s signals)
    and remembered; one arriving before the crawl has started is passed on once it has."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: list[int] = []
        self.child: subprocess.Popen[bytes] | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignalsForwarded:
        self.previous = {signum: signal.signal(signum, self._forward) for signum in self.SIGNALS}
        return self

    def __exit__(self, *_: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def to(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        for signum in self.received:
            self._send(signum)

    def _forward(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)
        self._send(signum)

    def _send(self, signum: int) -> None:
        if self.child is not None and self.child.returncode is None:
            self.child.send_signal(signum)


def crawl_site(context: RunContext, site: SiteConfig, database: Database) -> CrawlOutcome:
    """Run one site's crawl to its end and judge it from its exit status and its run record."""
    from storage import close_abandoned_runs, latest_run, run_of_process

    with database.session() as session:
        before = latest_run(session, site.name)
    before_id = before.id if before else None
    started = time.monotonic()
    with (
        StopSignalsForwarded() as forwarded,
        subprocess.Popen(
            crawl_command(context, site),
            env=crawl_environment(context),
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(),  # Scrapy's output is log, not summary
            # Its own process group: a Ctrl-C at the terminal reaches `run` alone, which passes it
            # on once (the crawl taking two for "stop at once").
            process_group=0,
            # A run killed outright must not leave its crawl behind: SIGTERM makes it stop, its
            # run recorded as failed ("shutdown"). (A preexec_fn is safe here: the run starts no
            # thread.)
            preexec_fn=dying_with_this_process(signal.SIGTERM),
        ) as child,
    ):
        forwarded.to(child)
        try:
            returncode: int | None = child.wait(context.config.run.timeout + STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            returncode = None
    with database.begin() as session:
        # Its own run, by the process that recorded it: another crawl of the site (started by
        # hand meanwhile) records runs too.
        run = run_of_process(
            session, site.name, host=socket.gethostname(), pid=child.pid, after=before_id
        )
        if run is not None and run.status == "running":
            # The crawl has ended (it was waited for) without closing its run, killed: closed
            # now, as the next crawl would, so this run's alert reports it.
            close_abandoned_runs(
                session,
                site.name,
                is_abandoned=lambda row: row.id == run.id,
                closed_at=datetime.now(UTC),
            )
        failure = judge_crawl(returncode, run, time.monotonic() - started)
        outcome = CrawlOutcome(
            site=site.name,
            failure=failure,
            run_id=run.id if run else None,
            stats=dict(run.stats or {}) if run else {},
        )
    if signal.SIGTERM in forwarded.received:
        # Stopped from outside (timeout(1) of cron/coopspider-cron, systemd): the crawl has
        # closed its run; `run` now ends as SIGTERM would have ended it.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    if signal.SIGINT in forwarded.received:
        raise RunInterrupted(site.name)
    return outcome


def judge_crawl(returncode: int | None, run: CrawlRun | None, seconds: float) -> str | None:
    """Why a crawl failed, or None: from the child's exit status (None: killed) and its run row.

    A crawl whose spider "finished" can still have read nothing: a site that is down answers
    no page, and the spider ends normally with nothing to follow. The store pipeline records
    such a run as failed with the reason "home_page_unread".
    """
    if returncode is None:
        return f"killed after {seconds:.0f} s (run.timeout exceeded)"
    if returncode == EXIT_LOCKED:
        return "another crawl of the site is running (started by hand or by another machine)"
    if returncode != 0:
        return f"scrapy exited with status {returncode}"
    if run is None:
        return "the crawl did not start (no run recorded; see the log)"
    if run.finish_reason == "home_page_unread":
        return home_page_failure(run.stats or {})
    if run.status != "finished":
        return f"the crawl did not finish ({run.finish_reason or run.status})"
    return None


def home_page_failure(stats: dict[str, Any]) -> str:
    """Why a crawl read nothing, in words, from its stats: the home page's failed fetch (the
    spider reads nothing else before it)."""
    reasons = sorted(
        key.removeprefix(_FETCH_FAILED)
        for key, count in stats.items()
        if key.startswith(_FETCH_FAILED) and count
    )
    words = ", ".join(
        f"HTTP {reason.removeprefix('http_')}"
        if reason.startswith("http_")
        else reason.replace("_", " ")
        for reason in reasons
    )
    return "the home page could not be read" + (f": {words}" if words else "")


_FETCH_FAILED = "coopspider/fetch_failed/"


def describe_crawl(outcome: CrawlOutcome) -> str:
    """One summary line for one site's crawl."""
    run = f" (run {outcome.run_id})" if outcome.run_id is not None else ""
    if outcome.failure:
        return f"{outcome.site}: crawl FAILED: {outcome.failure}{run}"
    stats = outcome.stats
    counts = ", ".join(
        f"{stats.get(f'coopspider/articles/{kind}', 0)} {kind}"
        for kind in ("new", "changed", "unchanged")
    )
    return (
        f"{outcome.site}: crawled {stats.get('downloader/response_count', 0)} pages, "
        f"{counts} articles, {stats.get('coopspider/pages/unparsed', 0)} pages not parsed{run}"
    )
