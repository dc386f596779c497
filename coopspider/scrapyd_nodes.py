"""`coopspider run --scrapyd`: each site's crawl as a job of a Scrapyd node, judged by the archive.

The crawl step of a run (see coopspider.cycle) that hands its crawls to Scrapyd nodes: one job
per site (spider `lienminh`, the site's [sites.NAME] table as the `site_table` argument: nodes
have no configuration file), followed with `listjobs.json`. A job ends; what it did is read in
the archive they all write to: the site's crawl run recorded after the job was scheduled (run
ids, not clocks, which differ between machines). The diff and the alert then run here, as after
local crawls.

Which node: Scrapyd's `daemonstatus.json` counts the jobs a node runs and queues, but not how
many it may run at once (its max_proc). A node's load is its running + pending jobs, plus the
jobs this run has given it; each site goes to the least-loaded node that answers, the first in
the list on a tie. On nodes of equal max_proc that is the node with the most free slots.

Faults: a node that does not answer (or refuses the job: no egg deployed) gets no more jobs of
this run, and its sites go to the others. A job that ends (or whose node stops answering)
without a completed crawl run of its site is scheduled once more on another node; a second
time it is that site's failed crawl. A Ctrl-C or SIGTERM cancels the run's jobs
(`cancel.json`, which stops a running crawl as Ctrl-C does: its run is recorded as
interrupted) and ends the run as a local one ends.

The decisions are pure functions (`choose_node`, `job_state`, `after_job`); `Node` is the thin
HTTP client of Scrapyd's four endpoints.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from coopspider.config import SiteConfig, masked_url
from coopspider.cycle import (
    SPIDER,
    STOP_GRACE_S,
    CrawlOutcome,
    RunContext,
    RunInterrupted,
    StepOutcome,
    crawl_arguments,
    describe_crawl,
    judge_crawl,
    step_database,
)
from coopspider.exitcodes import EXIT_CRAWL_FAILED
from coopspider.urls import split_login

if TYPE_CHECKING:
    from storage import Database
    from storage.models import CrawlRun

# The project name the egg is deployed under (scrapy.cfg's [deploy] project).
PROJECT = "coopspider"
POLL_S = 1.0  # how often the jobs are followed
HTTP_TIMEOUT_S = 15
STOP_WAIT_S = 120  # after cancelling, how long the crawls have to record their interruption


# -- Scrapyd's HTTP API ---------------------------------------------------------------------------


class NodeError(Exception):
    """A node did not answer, or refused the request: one line naming the node."""


@dataclass(frozen=True)
class Node:
    """One Scrapyd node's HTTP API (daemonstatus, schedule, listjobs, cancel)."""

    url: str  # ends with /
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def get(self, endpoint: str, **query: str) -> dict[str, Any]:
        address = self.url + endpoint + (f"?{urllib.parse.urlencode(query)}" if query else "")
        return self._call(urllib.request.Request(address))

    def post(self, endpoint: str, fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
        body = urllib.parse.urlencode(list(fields)).encode()
        return self._call(urllib.request.Request(self.url + endpoint, data=body))

    def _call(self, request: urllib.request.Request) -> dict[str, Any]:
        if self.username is not None:
            login = f"{self.username}:{self.password or ''}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(login).decode())
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            raise NodeError(f"{self.url} answered HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise NodeError(f"{self.url} does not answer ({error.reason})") from None
        except (OSError, ValueError) as error:
            raise NodeError(f"{self.url} does not answer ({error})") from None
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise NodeError(f"{self.url} refused: {message}")
        return answer


def nodes_of(urls: Sequence[str], username: str | None, password: str | None) -> list[Node]:
    """The nodes at `urls`, all with the one HTTP login."""
    return [Node(url, username, password) for url in urls]


# -- decisions ------------------------------------------------------------------------------------


def login_problem(sites: Sequence[SiteConfig]) -> str | None:
    """Why these sites cannot be crawled by Scrapyd jobs: a login in a base URL would be kept in
    the node's job list and logs (Scrapyd shows and logs job arguments). None when they can."""
    for site in sites:
        if site.base_url and split_login(site.base_url)[1] is not None:
            return (
                f"site {site.name}: its base_url holds a login, which Scrapyd would keep in its "
                "job list and logs: crawl it without --scrapyd (coopspider run --site "
                f"{site.name})"
            )
    return None


def node_load(status: Mapping[str, Any]) -> int:
    """A node's load from its daemonstatus.json: the jobs it runs and queues."""
    return int(status.get("running", 0)) + int(status.get("pending", 0))


def choose_node(loads: Mapping[str, int], exclude: Collection[str] = ()) -> str | None:
    """The least-loaded node not in `exclude` (the first in order on a tie), or None."""
    candidates = [url for url in loads if url not in exclude]
    return min(candidates, key=lambda url: loads[url]) if candidates else None


def job_fields(
    arguments: Mapping[str, str], settings: Mapping[str, str], table: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """The schedule.json form of one site's job: spider arguments, its table as JSON, settings."""
    fields = [("project", PROJECT), ("spider", SPIDER), *arguments.items()]
    if table:
        fields.append(("site_table", json.dumps(table, ensure_ascii=False)))
    fields += [("setting", f"{name}={value}") for name, value in settings.items()]
    return fields


JobState = Literal["pending", "running", "finished", "lost"]


def job_state(listing: Mapping[str, Any] | None, job_id: str) -> JobState:
    """Where a job is by its node's listjobs.json; "lost" when the node did not answer
    (`listing` None) or no longer knows the job (it was restarted)."""
    if listing is not None:
        for state in ("pending", "running", "finished"):
            if any(job.get("id") == job_id for job in listing.get(state, [])):
                return state
    return "lost"


def completed(run: CrawlRun | None) -> bool:
    """Whether a crawl closed `run` itself (finished, or failed for a reason it recorded), as
    opposed to no run at all or one left running by a crawl that died."""
    return run is not None and run.status != "running" and run.finish_reason != "abandoned"


def after_job(run: CrawlRun | None, retried: bool, other_node: bool) -> Literal["judge", "retry"]:
    """What to do once a job has ended and its site's latest run since scheduling is `run`:
    judge it, or (no completed run, a first attempt, another node to try) schedule it again."""
    if completed(run) or retried or not other_node:
        return "judge"
    return "retry"


# -- following the jobs ---------------------------------------------------------------------------


@dataclass
class Job:
    """One site's job on one node."""

    site: SiteConfig
    node: str
    id: str
    before: int | None  # the site's latest run id when the job was scheduled
    tried: set[str]  # the nodes this site's jobs went to
    scheduled: float  # time.monotonic()
    attempt: int = 1  # 2: the site's second job
    running_since: float | None = None
    killed: bool = False  # cancelled for running past run.timeout


class StopSignals:
    """SIGINT and SIGTERM remembered instead of ending the coordinator at once: its jobs must be
    cancelled first."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: list[int] = []
        self.event = threading.Event()
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self.previous = {signum: signal.signal(signum, self._remember) for signum in self.SIGNALS}
        return self

    def __exit__(self, *_: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _remember(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)
        self.event.set()


def say(line: str) -> None:
    """A progress line of the coordinator (stdout, as `run` prints "Crawling SITE")."""
    print(line, flush=True)


class ScrapydCrawlStep:
    """Crawl each site as a Scrapyd job; a site that fails does not stop the others."""

    name = "crawl"
    failure_code = EXIT_CRAWL_FAILED

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = {node.url: node for node in nodes}

    def run(self, context: RunContext) -> StepOutcome:
        with step_database(context.database_url) as database:
            return _Coordinator(context, database, self.nodes).run()


class _Coordinator:
    """One run's jobs: scheduled, followed, judged."""

    def __init__(self, context: RunContext, database: Database, nodes: Mapping[str, Node]):
        self.context = context
        self.database = database
        self.nodes = nodes
        self.loads: dict[str, int] = {}  # the nodes that answer
        self.active: dict[str, Job] = {}  # job id -> job
        self.outcomes: dict[str, CrawlOutcome] = {}  # site -> outcome
        self.problems: dict[str, str] = {}  # node -> why it gets no more jobs

    def run(self) -> StepOutcome:
        for url, node in self.nodes.items():
            try:
                self.loads[url] = node_load(node.get("daemonstatus.json"))
            except NodeError as error:
                self.drop_node(url, str(error))
        if not self.loads:
            failure = "no Scrapyd node answers"
            for site in self.context.sites:
                self.context.crawls.append(CrawlOutcome(site.name, failure, None))
            return StepOutcome(False, [f"crawl: {failure}: {'; '.join(self.problems.values())}"])
        with StopSignals() as stop:
            for site in self.context.sites:
                self.schedule(site, tried=set())
            while self.active and not stop.received:
                stop.event.wait(POLL_S)
                if not stop.received:
                    self.follow()
            if stop.received:
                self.cancel_all(stop)
        outcomes = [self.outcomes[site.name] for site in self.context.sites]
        self.context.crawls.extend(outcomes)
        if stop.received:
            self.stop_as(stop.received[0])
        return StepOutcome(
            all(outcome.ok for outcome in outcomes), [describe_crawl(o) for o in outcomes]
        )

    # -- scheduling --

    def drop_node(self, url: str, problem: str) -> None:
        """`url` gets no more jobs of this run."""
        if url not in self.problems:
            print(f"coopspider: Scrapyd node {problem}; no more jobs there", file=sys.stderr)
        self.problems[url] = problem
        self.loads.pop(url, None)

    def schedule(self, site: SiteConfig, tried: set[str], attempt: int = 1) -> None:
        """Give `site`'s job to the least-loaded node not `tried`; none takes it: its failure."""
        arguments, settings = crawl_arguments(self.context, site)
        table = self.context.config.site_tables.get(site.name)
        fields = job_fields(arguments, settings, table)
        while (url := choose_node(self.loads, exclude=tried)) is not None:
            before = self.latest_run_id(site.name)
            try:
                job_id = str(self.nodes[url].post("schedule.json", fields)["jobid"])
            except (NodeError, KeyError) as error:
                self.drop_node(url, str(error))
                continue
            self.loads[url] += 1
            self.active[job_id] = Job(
                site, url, job_id, before, tried | {url}, time.monotonic(), attempt=attempt
            )
            root = masked_url(site.base_url) if site.base_url else "default root"
            say(f"Scheduled {site.name} ({root}) on {url} as job {job_id}")
            return
        tried_text = ", ".join(sorted(tried)) if tried else "none answers"
        self.outcomes[site.name] = CrawlOutcome(
            site.name, f"no Scrapyd node took the job (tried: {tried_text})", None
        )

    def latest_run_id(self, site: str) -> int | None:
        from storage import latest_run

        with self.database.session() as session:
            run = latest_run(session, site)
            return run.id if run else None

    # -- following --

    def follow(self) -> None:
        """Ask each node with jobs of this run where they are; handle the ended ones."""
        by_node: dict[str, list[Job]] = {}
        for job in self.active.values():
            by_node.setdefault(job.node, []).append(job)
        for url, jobs in by_node.items():
            listing: dict[str, Any] | None
            try:
                listing = self.nodes[url].get("listjobs.json", project=PROJECT)
            except NodeError as error:
                self.drop_node(url, str(error))
                listing = None
            for job in jobs:
                self.follow_job(job, job_state(listing, job.id))

    def follow_job(self, job: Job, state: JobState) -> None:
        now = time.monotonic()
        if state == "pending":
            return
        if state == "running":
            job.running_since = job.running_since or now
            limit = self.context.config.run.timeout + STOP_GRACE_S
            if not job.killed and now - job.running_since > limit:
                job.killed = True
                self.cancel(job, "KILL")
            return
        self.ended(job)

    def ended(self, job: Job) -> None:
        """Judge a job that has ended (or was lost with its node) by the archive."""
        from storage import LockHeld

        try:
            run = self.closed_run(job)
        except LockHeld:
            # A crawl of the site still runs: the lost job's, on a node that stopped answering
            # but kept crawling. Its run will close; wait for it (within run.timeout).
            limit = self.context.config.run.timeout + STOP_GRACE_S
            if time.monotonic() - job.scheduled <= limit:
                return
            run = None
        del self.active[job.id]
        other_node = choose_node(self.loads, exclude=job.tried) is not None
        if after_job(run, job.attempt > 1, other_node) == "retry":
            say(f"{job.site.name}: job {job.id} on {job.node} ended without a completed crawl; "
                "scheduling it once more on another node")  # fmt: skip
            self.schedule(job.site, job.tried, attempt=job.attempt + 1)
            return
        seconds = time.monotonic() - (job.running_since or job.scheduled)
        if job.killed:
            failure = judge_crawl(None, run, seconds)
        elif completed(run):
            failure = judge_crawl(0, run, seconds)
        else:
            failure = (
                f"job {job.id} on {job.node} ended without a completed crawl run "
                "(see the job's log on the node)"
            )
        self.outcomes[job.site.name] = CrawlOutcome(
            site=job.site.name,
            failure=failure,
            run_id=run.id if run else None,
            stats=dict(run.stats or {}) if run else {},
        )

    def closed_run(self, job: Job) -> CrawlRun | None:
        """The site's latest run since the job was scheduled, once no crawl of the site holds its
        lock (storage.LockHeld meanwhile); one left running by a dead crawl is closed as
        abandoned first, as the site's next crawl would."""
        from coopspider.pipelines.store import site_lock_name
        from storage import archive_lock, close_abandoned_runs, latest_run

        after = job.before if job.before is not None else 0
        with archive_lock(self.database, site_lock_name(job.site.name)):
            with self.database.begin() as session:
                close_abandoned_runs(
                    session,
                    job.site.name,
                    is_abandoned=lambda run: run.id > after,
                    closed_at=datetime.now(UTC),
                )
            with self.database.session() as session:
                run = latest_run(session, job.site.name, after=after)
                if run is not None:
                    session.expunge(run)
                return run

    # -- stopping --

    def cancel(self, job: Job, signal_name: str = "INT") -> None:
        """Cancel `job` on its node: a pending job leaves the queue, a running crawl gets the
        signal (INT: it stops as on Ctrl-C and records its run as interrupted)."""
        try:
            self.nodes[job.node].post(
                "cancel.json", [("project", PROJECT), ("job", job.id), ("signal", signal_name)]
            )
        except NodeError as error:
            print(f"coopspider: cannot cancel job {job.id}: {error}", file=sys.stderr)

    def cancel_all(self, stop: StopSignals) -> None:
        """Cancel every job of this run, passing the coordinator's stop signal on to the running
        crawls (as a local run does: SIGINT records "interrupted", SIGTERM "shutdown"), and wait
        (STOP_WAIT_S at most) for them to close their runs; the sites are judged as they ended.
        A second stop signal ends the wait at once: the jobs still running are killed, as a
        second Ctrl-C kills a local crawl."""
        sites = ", ".join(job.site.name for job in self.active.values())
        print(f"coopspider: interrupted: cancelling the Scrapyd jobs of {sites}", file=sys.stderr)
        signal_name = signal.Signals(stop.received[0]).name.removeprefix("SIG")
        for job in list(self.active.values()):
            job.attempt += 1  # no second job
            self.cancel(job, signal_name)
        stop.event.clear()
        deadline = time.monotonic() + STOP_WAIT_S
        while self.active and time.monotonic() < deadline and len(stop.received) == 1:
            self.follow()
            if self.active:
                stop.event.wait(POLL_S)
        if self.active and len(stop.received) > 1:
            print("coopspider: stopping now: killing the jobs still running", file=sys.stderr)
            for job in list(self.active.values()):
                self.cancel(job, "KILL")
                self.outcomes[job.site.name] = CrawlOutcome(
                    job.site.name, f"job {job.id} on {job.node} killed on a second stop", None
                )
            self.active.clear()
        for job in list(self.active.values()):
            self.outcomes[job.site.name] = CrawlOutcome(
                job.site.name, f"job {job.id} on {job.node} did not stop when cancelled", None
            )
        for site in self.context.sites:
            self.outcomes.setdefault(
                site.name, CrawlOutcome(site.name, "interrupted before it was scheduled", None)
            )

    def stop_as(self, signum: int) -> None:
        """End the run as a local one ends on this signal: SIGTERM kills it (as it would have),
        SIGINT ends it with RunInterrupted (exit 130)."""
        if signum == signal.SIGTERM:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        raise RunInterrupted(", ".join(site.name for site in self.context.sites))
