"""The report's content, built from the archive: pure reads, no HTML here.

Changes come from the change events the crawl recorded (storage.changes), never recomputed;
the counter series from the counter readings; crawl health from the runs' stats. Each article
named by an event gets its full history (every archived version, and what each edit changed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coopspider.monitor.worddiff import Operation, shown_word_diff
from storage import UTC_PLUS_7, Article, ArticleVersion, CounterObservation, CrawlRun, list_events
from storage.changes import detail_time

# The fields of a version a reader compares, in reading order, with their Vietnamese labels.
FIELD_LABELS = {
    "title": "Tiêu đề",
    "published_at": "Ngày đăng",
    "author": "Tác giả",
    "summary": "Tóm tắt",
    "body": "Nội dung",
    "images": "Hình ảnh",
    "category": "Chuyên mục",
}
REMOVAL_REASONS = {"gone": "trang không còn (lỗi {status})", "unlisted": "không còn trong danh mục"}
ANOMALY_LABELS = {"decrease": "bộ đếm giảm", "frozen": "bộ đếm đứng yên"}


@dataclass(frozen=True)
class FieldDiff:
    """What an edit did to one field: word pieces kept, deleted or inserted."""

    field: str
    label: str
    pieces: tuple[tuple[Operation, str], ...]
    more: str = ""  # the note for the changed words left out, if any

    @classmethod
    def between(cls, name: str, label: str, old: str, new: str) -> FieldDiff:
        shown = shown_word_diff(old, new)
        return cls(name, label, shown.pieces, shown.more_sentence)


@dataclass(frozen=True)
class ArticleEvent:
    """One new, edited, removed or restored article as the crawl recorded it."""

    kind: str
    site: str
    article_pk: int | None
    url: str
    title: str
    detected_at: datetime
    published_at: datetime | None = None
    note: str = ""
    to_version: int | None = None
    diffs: list[FieldDiff] = field(default_factory=list)


@dataclass(frozen=True)
class CounterDay:
    """Visits on one calendar day in Vietnam; None when no pair of readings covers the day."""

    day: date
    visits: int | None


@dataclass(frozen=True)
class CounterSeries:
    """One site's visitor counter over the report's days."""

    site: str
    days: list[CounterDay]
    latest_total: int | None
    latest_online: int | None
    latest_at: datetime | None
    anomalies: list[str]


@dataclass(frozen=True)
class RunHealth:
    """One crawl run and the numbers that say whether it went well."""

    run_id: int
    site: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    finish_reason: str | None
    pages: int
    new: int
    changed: int
    errors: int
    unparsed: int

    @property
    def healthy(self) -> bool:
        return self.status == "finished" and not self.errors and not self.unparsed


@dataclass(frozen=True)
class VersionView:
    """One archived version of an article and what changed since the one before."""

    version: int
    title: str
    published_at: datetime | None
    published_raw: str | None
    author: str | None
    summary: str | None
    body: str
    images: list[dict[str, Any]]
    first_seen_at: datetime
    last_seen_at: datetime
    diffs: list[FieldDiff]


@dataclass(frozen=True)
class ArticleHistory:
    """An article with every version the archive holds, oldest first."""

    article_pk: int
    site: str
    url: str
    category: str | None
    first_seen_at: datetime
    removed_at: datetime | None
    versions: list[VersionView]


@dataclass(frozen=True)
class Report:
    """Everything the report shows, for the days since `since`."""

    generated_at: datetime
    since: datetime
    days: int
    site: str | None
    baselines: list[tuple[str, int, datetime]]
    new: list[ArticleEvent]
    changed: list[ArticleEvent]
    removed: list[ArticleEvent]
    restored: list[ArticleEvent]
    counters: list[CounterSeries]
    runs: list[RunHealth]
    articles: dict[int, ArticleHistory]


def build_report(session: Session, *, now: datetime, days: int, site: str | None = None) -> Report:
    """The report of the last `days` days (Vietnam calendar days, today included)."""
    if days < 1:
        raise ValueError("a report covers at least one day")
    first_day = now.astimezone(UTC_PLUS_7).date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, time(), UTC_PLUS_7)
    # A report as of `now`: what was found later is left out (and so reports can be redone).
    events = [
        event for event in list_events(session, site=site, since=since) if event.detected_at <= now
    ]
    by_kind: dict[str, list[ArticleEvent]] = {kind: [] for kind in ("new", "changed", "removed")}
    by_kind["restored"] = []
    baselines: list[tuple[str, int, datetime]] = []
    anomalies: dict[str, list[str]] = {}
    for event in events:
        details = event.details or {}
        if event.kind == "baseline":
            baselines.append((event.site, int(details.get("articles", 0)), event.detected_at))
        elif event.kind == "counter_anomaly":
            anomalies.setdefault(event.site, []).append(_anomaly_text(details, event.detected_at))
        else:
            by_kind[event.kind].append(_article_event(event.kind, event, details))
    for listed in by_kind.values():
        listed.sort(key=lambda item: item.detected_at, reverse=True)
    # New articles by publication date, newest first; those without a date after the dated ones
    # (the sort is stable: equal dates stay newest found first).
    by_kind["new"].sort(
        key=lambda item: item.published_at or datetime.min.replace(tzinfo=UTC_PLUS_7),
        reverse=True,
    )

    named = {
        item.article_pk
        for listed in by_kind.values()
        for item in listed
        if item.article_pk is not None
    }
    return Report(
        generated_at=now,
        since=since,
        days=days,
        site=site,
        baselines=baselines,
        new=by_kind["new"],
        changed=by_kind["changed"],
        removed=by_kind["removed"],
        restored=by_kind["restored"],
        counters=counter_series(session, since=since, now=now, site=site, anomalies=anomalies),
        runs=run_health(session, since=since, until=now, site=site),
        articles={history.article_pk: history for history in article_histories(session, named)},
    )


def _article_event(kind: str, event: Any, details: dict[str, Any]) -> ArticleEvent:
    note = ""
    if kind == "removed":
        reason = REMOVAL_REASONS.get(details.get("reason", ""), "{reason}")
        note = reason.format(status=details.get("status", "?"), reason=details.get("reason", ""))
    diff = details.get("diff") or {}
    return ArticleEvent(
        kind=kind,
        site=event.site,
        article_pk=event.article_pk,
        url=str(details.get("url", "")),
        title=str(details.get("title", "")),
        detected_at=event.detected_at,
        published_at=detail_time(details.get("published_at"), UTC_PLUS_7),
        note=note,
        to_version=details.get("to_version"),
        diffs=[
            FieldDiff.between(name, FIELD_LABELS.get(name, name), *map(_as_text, diff[name]))
            for name in _in_reading_order(details.get("fields") or list(diff))
            if name in diff
        ],
    )


def _anomaly_text(details: dict[str, Any], detected_at: datetime) -> str:
    label = ANOMALY_LABELS.get(details.get("anomaly", ""), str(details.get("anomaly", "")))
    seen = detected_at.astimezone(UTC_PLUS_7).strftime("%d/%m/%Y %H:%M")
    numbers = " → ".join(
        format_number(value) if isinstance(value, int) else "?"
        for value in (details.get("previous_total"), details.get("total"))
    )
    return f"{seen}: {label} ({numbers})"


def format_number(value: int) -> str:
    """An integer the Vietnamese way: 1.234.567."""
    return f"{value:,}".replace(",", ".")


def _in_reading_order(names: Iterable[str]) -> list[str]:
    order = list(FIELD_LABELS)
    return sorted(names, key=lambda name: order.index(name) if name in order else len(order))


def _as_text(value: Any) -> str:
    """A field value as the text a reader compares: images one per line, dates in Vietnam."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC_PLUS_7).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, str):
        moment = detail_time(value, UTC_PLUS_7) if value[:4].isdigit() and "T" in value else None
        return _as_text(moment) if moment else value
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return "\n".join(
            " — ".join(str(part) for part in (item.get("url"), item.get("caption")) if part)
            for item in value
        )
    return json.dumps(value, ensure_ascii=False)


def counter_series(
    session: Session,
    *,
    since: datetime,
    now: datetime,
    site: str | None = None,
    anomalies: dict[str, list[str]] | None = None,
) -> list[CounterSeries]:
    """Visits per day of each site's counter from `since` to `now`, with its latest reading."""
    # The last reading before the window gives the first day its starting point.
    query = select(CounterObservation).where(
        CounterObservation.observed_at >= since - timedelta(days=7),
        CounterObservation.observed_at <= now,
    )
    if site is not None:
        query = query.where(CounterObservation.site == site)
    readings: dict[str, list[CounterObservation]] = {}
    for reading in session.scalars(query.order_by(CounterObservation.observed_at)):
        readings.setdefault(reading.site, []).append(reading)
    first_day = since.astimezone(UTC_PLUS_7).date()
    last_day = now.astimezone(UTC_PLUS_7).date()
    series = []
    for name in sorted(set(readings) | set(anomalies or {})):
        known = [(r.observed_at, r.total) for r in readings.get(name, []) if r.total is not None]
        latest = readings[name][-1] if readings.get(name) else None
        series.append(
            CounterSeries(
                site=name,
                days=daily_visits(known, first_day, last_day),
                latest_total=latest.total if latest else None,
                latest_online=latest.online if latest else None,
                latest_at=latest.observed_at if latest else None,
                anomalies=(anomalies or {}).get(name, []),
            )
        )
    return series


def daily_visits(
    readings: Sequence[tuple[datetime, int]], first_day: date, last_day: date
) -> list[CounterDay]:
    """Visits on each day from first_day to last_day, from (time, total) readings in time order.

    The visits between two readings are spread over the time between them, so a reading missed
    on one day shares its visits with the days it spans. A counter that went down (reset, new
    CMS) tells nothing about that span; a day no span covers is None, not 0.
    """
    visits: dict[date, float] = {}
    for (start, start_total), (end, end_total) in zip(readings, readings[1:], strict=False):
        span = (end - start).total_seconds()
        if span <= 0 or end_total < start_total:
            continue
        rate = (end_total - start_total) / span
        moment = start.astimezone(UTC_PLUS_7)
        end_local = end.astimezone(UTC_PLUS_7)
        while moment < end_local:
            midnight = datetime.combine(moment.date() + timedelta(days=1), time(), UTC_PLUS_7)
            stop = min(midnight, end_local)
            visits[moment.date()] = (
                visits.get(moment.date(), 0.0) + rate * (stop - moment).total_seconds()
            )
            moment = stop
    count = (last_day - first_day).days + 1
    days = [first_day + timedelta(days=offset) for offset in range(count)]
    return [CounterDay(day, round(visits[day]) if day in visits else None) for day in days]


def run_health(
    session: Session, *, since: datetime, until: datetime, site: str | None = None
) -> list[RunHealth]:
    """The crawl runs started between `since` and `until`, newest first, with their page and
    error counts."""
    query = select(CrawlRun).where(CrawlRun.started_at >= since, CrawlRun.started_at <= until)
    if site is not None:
        query = query.where(CrawlRun.site == site)
    runs = []
    for run in session.scalars(query.order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())):
        stats = run.stats or {}
        runs.append(
            RunHealth(
                run_id=run.id,
                site=run.site,
                started_at=run.started_at,
                finished_at=run.finished_at,
                status=run.status,
                finish_reason=run.finish_reason,
                pages=int(stats.get("downloader/response_count", 0)),
                new=int(stats.get("coopspider/articles/new", 0)),
                changed=int(stats.get("coopspider/articles/changed", 0)),
                errors=int(stats.get("log_count/ERROR", 0))
                + int(stats.get("coopspider/store/errors", 0)),
                unparsed=int(stats.get("coopspider/pages/unparsed", 0)),
            )
        )
    return runs


def article_histories(session: Session, article_pks: Iterable[int]) -> list[ArticleHistory]:
    """Each article with all its versions and the word diff of each edit."""
    wanted = sorted(set(article_pks))
    histories = []
    # Chunks keep the IN list within every database's limit on bound parameters.
    for start in range(0, len(wanted), 500):
        query = (
            select(Article)
            .where(Article.id.in_(wanted[start : start + 500]))
            .options(selectinload(Article.versions))
            .order_by(Article.id)
        )
        histories.extend(_history(article) for article in session.scalars(query))
    return histories


def _history(article: Article) -> ArticleHistory:
    views: list[VersionView] = []
    previous: ArticleVersion | None = None
    for version in article.versions:
        views.append(
            VersionView(
                version=version.version,
                title=version.title,
                published_at=version.published_at,
                published_raw=version.published_raw,
                author=version.author,
                summary=version.summary,
                body=version.body,
                images=list(version.images or []),
                first_seen_at=version.first_seen_at,
                last_seen_at=version.last_seen_at,
                diffs=version_diffs(previous, version) if previous else [],
            )
        )
        previous = version
    return ArticleHistory(
        article_pk=article.id,
        site=article.site,
        url=article.url,
        category=article.category,
        first_seen_at=article.first_seen_at,
        removed_at=article.removed_at,
        versions=views,
    )


def version_diffs(old: ArticleVersion, new: ArticleVersion) -> list[FieldDiff]:
    """The word diff of every field that differs between two versions of an article."""
    diffs = []
    for name, label in FIELD_LABELS.items():
        if name == "category":
            continue  # kept on the article, not on its versions
        before, after = _as_text(getattr(old, name)), _as_text(getattr(new, name))
        if before != after:
            diffs.append(FieldDiff.between(name, label, before, after))
    return diffs
