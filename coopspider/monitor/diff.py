"""The diff report: what the latest finished crawl of each site found, from recorded change events.

Only a finished crawl reports. A crawl that did not finish (killed, cut short, failed) keeps
what it archived, with its change events, but reports nothing itself: its events are reported
by the next crawl of the site that finishes, together with that crawl's own. The alerts follow
the same rule (storage.alerts), so `diff` and the e-mail tell one story: after a crawl killed
when it had stored 25 of 30 new articles, and a crawl that then finished, both say 30 new.

`load_facts` reads, for each site, that window of runs (after the finished crawl before the
latest finished one, up to the latest run that ended), their change events and the two counter
readings the counter section compares; `build_diff` turns those facts into the report (a plain
JSON-ready dict) without touching the database. Both cost what the latest runs hold, not what
the archive holds: every query is bounded by an index on the run or the site.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from storage.reading import list_events
from storage.schema import counter_observations, crawl_runs

if TYPE_CHECKING:
    from storage.reading import Reader


@dataclass(frozen=True)
class CounterReading:
    """One visitor-counter observation."""

    observed_at: datetime
    total: int | None
    online: int | None


@dataclass(frozen=True)
class UnfinishedRun:
    """A crawl that ended without finishing, in the window the report covers."""

    run_id: int
    status: str
    finish_reason: str | None
    stats: dict[str, Any]
    reported_later: bool  # after the reported run: its events wait for the next finished crawl


@dataclass(frozen=True)
class SiteFacts:
    """Everything the report says about one site: the run it reports (the latest finished one,
    else the latest that ended), the events it reports, and the crawls that did not finish."""

    site: str
    run_id: int
    status: str
    finish_reason: str | None
    started_at: datetime
    stats: dict[str, Any]
    events: list[dict[str, Any]]  # {"kind", "details"} in the order recorded
    counter: CounterReading | None  # the run's own reading
    previous_counter: CounterReading | None  # the reading before it, from an earlier run
    unfinished: list[UnfinishedRun] = field(default_factory=list)


def load_facts(reader: Reader, site: str | None = None) -> list[SiteFacts]:
    """The facts of each site (or of `site`) that has a crawl that ended, by site name."""
    ended = select(crawl_runs.c.site).where(crawl_runs.c.status != "running").distinct()
    if site is not None:
        ended = ended.where(crawl_runs.c.site == site)
    return [_site_facts(reader, name) for name in sorted(reader.execute(ended).scalars())]


def _site_facts(reader: Reader, site: str) -> SiteFacts:
    runs_of_site = crawl_runs.c
    finished = (
        reader.execute(
            select(runs_of_site.id)
            .where(runs_of_site.site == site, runs_of_site.status == "finished")
            .order_by(runs_of_site.id.desc())
            .limit(2)
        )
        .scalars()
        .all()
    )
    ended = select(crawl_runs).where(runs_of_site.site == site, runs_of_site.status != "running")
    if finished:
        # Every run that ended after the finished crawl before the latest finished one.
        if len(finished) == 2:
            ended = ended.where(runs_of_site.id > finished[1])
        runs = list(reader.execute(ended.order_by(runs_of_site.id)))
        reported = next(run for run in runs if run.id == finished[0])
        reporting = [run.id for run in runs if run.id <= reported.id]
    else:
        # No crawl of the site ever finished: the latest one says why; it reports nothing.
        runs = list(reader.execute(ended.order_by(runs_of_site.id.desc()).limit(1)))
        reported, reporting = runs[0], []
    return SiteFacts(
        site=site,
        run_id=reported.id,
        status=reported.status,
        finish_reason=reported.finish_reason,
        started_at=reported.started_at,
        stats=dict(reported.stats or {}),
        events=[
            {"kind": event.kind, "details": dict(event.details)}
            for event in list_events(reader, run_ids=reporting)
        ],
        counter=_reading(reader, site, run_id=reported.id),
        previous_counter=_reading(reader, site, before_run=reported.id),
        unfinished=[
            UnfinishedRun(
                run_id=run.id,
                status=run.status,
                finish_reason=run.finish_reason,
                stats=dict(run.stats or {}),
                reported_later=run.id > reported.id,
            )
            for run in runs
            if run.status != "finished" and run.id != reported.id
        ],
    )


def _reading(
    reader: Reader, site: str, *, run_id: int | None = None, before_run: int | None = None
) -> CounterReading | None:
    readings = counter_observations.c
    query = select(counter_observations).where(readings.site == site)
    if run_id is not None:
        query = query.where(readings.crawl_run_id == run_id)
    if before_run is not None:
        query = query.where(readings.crawl_run_id < before_run)
    row = reader.execute(
        query.order_by(readings.observed_at.desc(), readings.id.desc()).limit(1)
    ).first()
    return CounterReading(row.observed_at, row.total, row.online) if row else None


def build_diff(facts: Iterable[SiteFacts]) -> dict[str, Any]:
    """The report of the given runs: new, changed, removed and restored articles, baselines,
    counters and errors (see `coopspider diff --help` for the shape)."""
    report: dict[str, Any] = {
        "new": [],
        "changed": [],
        "removed": [],
        "restored": [],
        "baseline": [],
        "counters": [],
        "errors": [],
    }
    for run in facts:
        anomalies = []
        for event in run.events:
            kind, details = event["kind"], event["details"]
            if kind == "new":
                report["new"].append(
                    {
                        "site": run.site,
                        "url": details["url"],
                        "title": details["title"],
                        "published_at": details.get("published_at"),
                    }
                )
            elif kind == "changed":
                report["changed"].append(
                    {
                        "site": run.site,
                        "url": details["url"],
                        "title": details["title"],
                        "fields": list(details["fields"]),
                        "diff": dict(details["diff"]),
                    }
                )
            elif kind == "removed":
                report["removed"].append(
                    {
                        "site": run.site,
                        "url": details["url"],
                        "title": details["title"],
                        "reason": details["reason"],
                        **({"status": details["status"]} if "status" in details else {}),
                    }
                )
            elif kind == "restored":
                report["restored"].append(
                    {"site": run.site, "url": details["url"], "title": details["title"]}
                )
            elif kind == "baseline":
                report["baseline"].append({"site": run.site, "articles": details["articles"]})
            elif kind == "counter_anomaly":
                anomalies.append(dict(details))
        report["counters"].append(counter_entry(run, anomalies))
        report["errors"].extend(run_errors(run))
    return report


def counter_entry(run: SiteFacts, anomalies: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The counter section of one site: this reading, the change since the previous one and
    the visits per day between them."""
    total = run.counter.total if run.counter else None
    previous = run.previous_counter.total if run.previous_counter else None
    delta = total - previous if total is not None and previous is not None else None
    per_day = None
    if delta is not None and run.counter and run.previous_counter:
        days = (run.counter.observed_at - run.previous_counter.observed_at).total_seconds() / 86400
        per_day = round(delta / days, 1) if days > 0 else None
    return {
        "site": run.site,
        "total": total,
        "online": run.counter.online if run.counter else None,
        "previous_total": previous,
        "delta": delta,
        "per_day": per_day,
        "anomalies": list(anomalies),
    }


# Crawl statistics that mean part of the site could not be read or stored.
_ERROR_STATS = {
    "coopspider/store/errors": "items not stored",
    "coopspider/pages/unparsed": "pages not parsed",
    "spider_exceptions/count": "spider errors",
    "downloader/exception_count": "download errors (timeouts, refused connections)",
}


def run_errors(run: SiteFacts) -> list[dict[str, Any]]:
    """What went wrong: the reported run's error counts, and each crawl in the window that did
    not finish, with its own counts."""
    errors = _errors(run.site, run.run_id, run.status, run.finish_reason, run.stats)
    for other in run.unfinished:
        where = (
            "its changes are reported with the next crawl that finishes"
            if other.reported_later
            else "what it archived is reported here"
        )
        errors += _errors(
            run.site, other.run_id, other.status, other.finish_reason, other.stats, where
        )
    return errors


def _errors(
    site: str,
    run_id: int,
    status: str,
    reason: str | None,
    stats: dict[str, Any],
    note: str | None = None,
) -> list[dict[str, Any]]:
    """One run's errors: that it did not finish (and `note`), and the error counts it kept."""
    messages = []
    if status != "finished":
        ending = f"; {note}" if note else ""
        messages.append(f"crawl {status} ({reason or 'no reason recorded'}){ending}")
    for key, what in _ERROR_STATS.items():
        if count := stats.get(key):
            messages.append(f"{count} {what}")
    server_errors = sum(
        value
        for key, value in stats.items()
        if key.startswith("downloader/response_status_count/5") and isinstance(value, int)
    )
    if server_errors:
        messages.append(f"{server_errors} server errors (5xx)")
    return [{"site": site, "run_id": run_id, "message": message} for message in messages]


def is_empty(report: dict[str, Any]) -> bool:
    """Whether the report holds no change, no anomaly and no error."""
    changes = ("new", "changed", "removed", "restored")
    return (
        not any(report[key] for key in changes)
        and not report["errors"]
        and not any(counter["anomalies"] for counter in report["counters"])
    )
