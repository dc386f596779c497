"""The diff report: what the latest crawl of each site found, built from recorded change events.

`load_facts` reads, for each site, its latest completed run, that run's change events and the
two counter readings the counter section compares; `build_report` turns those facts into the
report (a plain JSON-ready dict) without touching the database. Both cost what the latest runs
hold, not what the archive holds: every query is bounded by an index on the run or the site.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import ChangeEvent, CounterObservation, CrawlRun, list_events


@dataclass(frozen=True)
class CounterReading:
    """One visitor-counter observation."""

    observed_at: datetime
    total: int | None
    online: int | None


@dataclass(frozen=True)
class RunFacts:
    """Everything the report says about one site: its latest run and what that run recorded."""

    site: str
    run_id: int
    status: str
    finish_reason: str | None
    started_at: datetime
    stats: dict[str, Any]
    events: list[dict[str, Any]]  # {"kind", "details"} in the order recorded
    counter: CounterReading | None  # the run's own reading
    previous_counter: CounterReading | None  # the reading before it, from an earlier run


def load_facts(session: Session, site: str | None = None) -> list[RunFacts]:
    """The facts of the latest completed run of each site (or of `site`), by site name."""
    latest = (
        select(CrawlRun.site, func.max(CrawlRun.id).label("run_id"))
        .where(CrawlRun.status != "running")
        .group_by(CrawlRun.site)
    )
    if site is not None:
        latest = latest.where(CrawlRun.site == site)
    run_ids = [row.run_id for row in session.execute(latest)]
    runs = sorted(
        session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids))), key=lambda r: r.site
    )
    events: dict[int, list[ChangeEvent]] = {}
    for event in list_events(session, run_ids=run_ids):
        events.setdefault(event.crawl_run_id, []).append(event)
    return [
        RunFacts(
            site=run.site,
            run_id=run.id,
            status=run.status,
            finish_reason=run.finish_reason,
            started_at=run.started_at,
            stats=dict(run.stats or {}),
            events=[{"kind": e.kind, "details": dict(e.details)} for e in events.get(run.id, [])],
            counter=_reading(session, run.site, run_id=run.id),
            previous_counter=_reading(session, run.site, before_run=run.id),
        )
        for run in runs
    ]


def _reading(
    session: Session, site: str, *, run_id: int | None = None, before_run: int | None = None
) -> CounterReading | None:
    query = select(CounterObservation).where(CounterObservation.site == site)
    if run_id is not None:
        query = query.where(CounterObservation.crawl_run_id == run_id)
    if before_run is not None:
        query = query.where(CounterObservation.crawl_run_id < before_run)
    row = session.scalars(
        query.order_by(CounterObservation.observed_at.desc(), CounterObservation.id.desc()).limit(1)
    ).first()
    return CounterReading(row.observed_at, row.total, row.online) if row else None


def build_report(facts: Iterable[RunFacts]) -> dict[str, Any]:
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


def counter_entry(run: RunFacts, anomalies: Sequence[dict[str, Any]]) -> dict[str, Any]:
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


def run_errors(run: RunFacts) -> list[dict[str, Any]]:
    """What went wrong in the run: a run that did not finish, and the error counts it kept."""
    errors = []
    if run.status != "finished":
        errors.append(
            {
                "site": run.site,
                "run_id": run.run_id,
                "message": f"crawl {run.status} ({run.finish_reason or 'no reason recorded'})",
            }
        )
    for key, what in _ERROR_STATS.items():
        if count := run.stats.get(key):
            errors.append({"site": run.site, "run_id": run.run_id, "message": f"{count} {what}"})
    server_errors = sum(
        value
        for key, value in run.stats.items()
        if key.startswith("downloader/response_status_count/5") and isinstance(value, int)
    )
    if server_errors:
        errors.append(
            {
                "site": run.site,
                "run_id": run.run_id,
                "message": f"{server_errors} server errors (5xx)",
            }
        )
    return errors


def is_empty(report: dict[str, Any]) -> bool:
    """Whether the report holds no change, no anomaly and no error."""
    changes = ("new", "changed", "removed", "restored")
    return (
        not any(report[key] for key in changes)
        and not report["errors"]
        and not any(counter["anomalies"] for counter in report["counters"])
    )
