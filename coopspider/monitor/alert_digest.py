"""The alert digest: change events and health issues turned into what one message says (pure).

Order of a digest: per site, the baseline, new reports, edited reports, removed reports, restored
reports, counter anomalies, crawl health problems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coopspider.monitor.vocabulary import ELLIPSIS, shorten_diff, value_text
from coopspider.monitor.worddiff import Operation, shown_word_diff
from storage.content import detail_time

EXCERPT_CHARS = 300  # the first lines of a new report's text


@dataclass(frozen=True)
class EventInput:
    """One change event as the digest reads it (storage.changes documents `details`)."""

    site: str
    kind: str
    details: Mapping[str, Any]
    category: str | None = None  # the article's category, when the event is about an article
    text: str | None = None  # the article's text as that crawl stored it


@dataclass(frozen=True)
class HealthInput:
    """One crawl health issue as the digest reads it (see monitor.alert_health)."""

    site: str
    kind: str
    details: Mapping[str, Any]
    run_started_at: datetime  # when the run that first showed it started


@dataclass(frozen=True)
class Baseline:
    site: str
    articles: int


@dataclass(frozen=True)
class NewReport:
    site: str
    title: str
    url: str
    published_at: datetime | None
    category: str | None
    excerpt: str


@dataclass(frozen=True)
class FieldEdit:
    field: str
    pieces: tuple[tuple[Operation, str], ...]  # word diff, long unchanged runs shortened
    more: str = ""  # the note for the changed words left out, if any


@dataclass(frozen=True)
class EditedReport:
    site: str
    title: str
    url: str
    edits: tuple[FieldEdit, ...]


@dataclass(frozen=True)
class RemovedReport:
    site: str
    title: str
    url: str
    reason: str  # "gone" (with `status`) or "unlisted"
    status: int | None


@dataclass(frozen=True)
class RestoredReport:
    site: str
    title: str
    url: str


@dataclass(frozen=True)
class CounterAnomaly:
    site: str
    anomaly: str  # "decrease" or "frozen"
    total: int | None
    previous_total: int | None
    runs: int | None


@dataclass(frozen=True)
class HealthProblem:
    site: str
    kind: str
    details: Mapping[str, Any]
    run_started_at: datetime


@dataclass(frozen=True)
class Digest:
    """Everything one alert message says, each part in display order."""

    baselines: tuple[Baseline, ...] = ()
    new: tuple[NewReport, ...] = ()
    edited: tuple[EditedReport, ...] = ()
    removed: tuple[RemovedReport, ...] = ()
    restored: tuple[RestoredReport, ...] = ()
    counters: tuple[CounterAnomaly, ...] = ()
    health: tuple[HealthProblem, ...] = ()

    def parts(self) -> dict[str, tuple[Any, ...]]:
        """Each part by name, in display order."""
        return {
            "baselines": self.baselines,
            "new": self.new,
            "edited": self.edited,
            "removed": self.removed,
            "restored": self.restored,
            "counters": self.counters,
            "health": self.health,
        }

    @property
    def sites(self) -> list[str]:
        """The sites the digest speaks of, sorted."""
        return sorted({item.site for part in self.parts().values() for item in part})

    def for_site(self, site: str) -> Digest:
        """The part of the digest about one site."""
        return Digest(
            **{
                name: tuple(item for item in items if item.site == site)
                for name, items in self.parts().items()
            }
        )


def build_digest(events: Iterable[EventInput], health: Iterable[HealthInput] = ()) -> Digest:
    """The digest of some change events and health issues (in the order they were recorded)."""
    parts: dict[str, list[Any]] = {name: [] for name in Digest().parts()}
    for event in events:
        details = event.details
        title = str(details.get("title") or "")
        url = str(details.get("url") or "")
        if event.kind == "baseline":
            parts["baselines"].append(Baseline(event.site, int(details.get("articles") or 0)))
        elif event.kind == "new":
            parts["new"].append(
                NewReport(
                    site=event.site,
                    title=title,
                    url=url,
                    published_at=detail_time(details.get("published_at")),
                    category=event.category,
                    excerpt=excerpt(event.text or ""),
                )
            )
        elif event.kind == "changed":
            edits = tuple(
                _field_edit(name, value_text(old), value_text(new))
                for name, (old, new) in (details.get("diff") or {}).items()
            )
            parts["edited"].append(EditedReport(event.site, title, url, edits))
        elif event.kind == "removed":
            status = details.get("status")
            parts["removed"].append(
                RemovedReport(
                    event.site,
                    title,
                    url,
                    str(details.get("reason") or ""),
                    status if isinstance(status, int) else None,
                )
            )
        elif event.kind == "restored":
            parts["restored"].append(RestoredReport(event.site, title, url))
        elif event.kind == "counter_anomaly":
            parts["counters"].append(
                CounterAnomaly(
                    event.site,
                    str(details.get("anomaly") or ""),
                    details.get("total"),
                    details.get("previous_total"),
                    details.get("runs"),
                )
            )
        else:
            raise ValueError(f"unknown change event kind {event.kind!r}")
    for issue in health:
        parts["health"].append(
            HealthProblem(issue.site, issue.kind, dict(issue.details), issue.run_started_at)
        )
    # Newest reports first; those without a date after the dated ones.
    parts["new"].sort(
        key=lambda report: (
            report.published_at is None,
            -report.published_at.timestamp() if report.published_at else 0,
        )
    )
    return Digest(**{name: tuple(items) for name, items in parts.items()})


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first lines of `text`, at most about `limit` characters, cut between words."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    kept: list[str] = []
    length = 0
    for line in filter(None, lines):
        if length + len(line) > limit:
            room = limit - length
            if room > limit // 4 or not kept:
                cut = line[:room].rsplit(" ", 1)[0] if " " in line[:room] else line[:room]
                kept.append(cut.rstrip(" ,.;:") + ELLIPSIS)
            else:
                kept[-1] += " " + ELLIPSIS
            break
        kept.append(line)
        length += len(line)
    return "\n".join(kept)


def _field_edit(name: str, old: str, new: str) -> FieldEdit:
    shown = shown_word_diff(old, new)
    return FieldEdit(name, tuple(shorten_diff(shown.pieces)), shown.more_sentence)
