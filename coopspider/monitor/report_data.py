"""The report's content: loaded from the archive at the edge, then built purely; no HTML here.

`load_report_source` is the only function here that reads the database: it returns the rows a
report of some days needs. `build_report` turns them into a `Report` without touching a session.
Changes come from the change events the crawl recorded (storage.changes), never recomputed;
the counter series from the counter readings; crawl health from the runs' stats. Each article
named by an event gets its full history (every archived version, and what each edit changed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select

from coopspider.monitor.vocabulary import (
    FIELD_LABELS,
    counter_anomaly_sentence,
    field_label,
    in_reading_order,
    removal_reason,
    value_text,
)
from coopspider.monitor.worddiff import Operation, shown_word_diff
from storage.content import UTC_PLUS_7, detail_time
from storage.reading import list_events
from storage.schema import article_versions, articles, counter_observations, crawl_runs

if TYPE_CHECKING:
    from storage.reading import Reader


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
class CounterAnomalyText:
    """A visitor counter that went down or stayed frozen, in words, with when it was found."""

    site: str
    detected_at: datetime
    sentence: str


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
    anomalies: list[CounterAnomalyText]


@dataclass(frozen=True)
class RunSummary:
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
    runs: list[RunSummary]
    articles: dict[int, ArticleHistory]


@dataclass(frozen=True)
class ArticleRows:
    """An article's row and the rows of its versions, oldest first."""

    article: Row[Any]
    versions: list[Row[Any]]


@dataclass(frozen=True)
class ReportSource:
    """The archive's rows a report is built from, as `load_report_source` read them."""

    now: datetime
    since: datetime
    days: int
    site: str | None
    events: list[Row[Any]]  # detected from `since` to `now`, in the order recorded
    readings: list[Row[Any]]  # from a week before `since` to `now`, oldest first
    runs: list[Row[Any]]  # started from `since` to `now`, newest first
    articles: list[ArticleRows]  # the articles the events name, with their versions


# Counter readings read before the report's first day: the last one gives that day its start.
READINGS_BEFORE = timedelta(days=7)


def window_start(now: datetime, days: int) -> datetime:
    """Midnight in Vietnam that starts the last `days` calendar days to `now`, today included."""
    if days < 1:
        raise ValueError("a report covers at least one day")
    first_day = now.astimezone(UTC_PLUS_7).date() - timedelta(days=days - 1)
    return datetime.combine(first_day, time(), UTC_PLUS_7)


def load_events(
    reader: Reader, *, now: datetime, since: datetime, site: str | None = None
) -> list[Row[Any]]:
    """The change events detected from `since` to `now`, in the order recorded: what was found
    after `now` is left out, so a report (or feed) as of `now` can be made again."""
    return [
        event for event in list_events(reader, site=site, since=since) if event.detected_at <= now
    ]


def load_report_source(
    reader: Reader, *, now: datetime, days: int, site: str | None = None
) -> ReportSource:
    """What the report of the last `days` days (Vietnam calendar days, today included) needs."""
    since = window_start(now, days)
    events = load_events(reader, now=now, since=since, site=site)
    observed_at, started_at = counter_observations.c.observed_at, crawl_runs.c.started_at
    readings = select(counter_observations).where(
        observed_at >= since - READINGS_BEFORE, observed_at <= now
    )
    runs = select(crawl_runs).where(started_at >= since, started_at <= now)
    if site is not None:
        readings = readings.where(counter_observations.c.site == site)
        runs = runs.where(crawl_runs.c.site == site)
    named = {event.article_pk for event in events if event.article_pk is not None}
    return ReportSource(
        now=now,
        since=since,
        days=days,
        site=site,
        events=events,
        readings=list(reader.execute(readings.order_by(observed_at))),
        runs=list(reader.execute(runs.order_by(started_at.desc(), crawl_runs.c.id.desc()))),
        articles=_articles_with_versions(reader, named),
    )


def _articles_with_versions(reader: Reader, article_pks: Iterable[int]) -> list[ArticleRows]:
    wanted = sorted(set(article_pks))
    found: list[ArticleRows] = []
    # Chunks keep the IN list within every database's limit on bound parameters.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        versions: dict[int, list[Row[Any]]] = {}
        of_chunk = (
            select(article_versions)
            .where(article_versions.c.article_pk.in_(chunk))
            .order_by(article_versions.c.article_pk, article_versions.c.version)
        )
        for version in reader.execute(of_chunk):
            versions.setdefault(version.article_pk, []).append(version)
        query = select(articles).where(articles.c.id.in_(chunk)).order_by(articles.c.id)
        found.extend(ArticleRows(row, versions.get(row.id, [])) for row in reader.execute(query))
    return found


def build_report(source: ReportSource) -> Report:
    """The report of the loaded rows (pure: reads no database)."""
    by_kind: dict[str, list[ArticleEvent]] = {kind: [] for kind in ("new", "changed", "removed")}
    by_kind["restored"] = []
    baselines: list[tuple[str, int, datetime]] = []
    anomalies: dict[str, list[CounterAnomalyText]] = {}
    for event in source.events:
        details = event.details or {}
        if event.kind == "baseline":
            baselines.append((event.site, int(details.get("articles", 0)), event.detected_at))
        elif event.kind == "counter_anomaly":
            anomalies.setdefault(event.site, []).append(counter_anomaly_text(event))
        else:
            by_kind[event.kind].append(article_event(event))
    for listed in by_kind.values():
        listed.sort(key=lambda item: item.detected_at, reverse=True)
    # New articles by publication date, newest first; those without a date after the dated ones
    # (the sort is stable: equal dates stay newest found first).
    by_kind["new"].sort(
        key=lambda item: item.published_at or datetime.min.replace(tzinfo=UTC_PLUS_7),
        reverse=True,
    )

    return Report(
        generated_at=source.now,
        since=source.since,
        days=source.days,
        site=source.site,
        baselines=baselines,
        new=by_kind["new"],
        changed=by_kind["changed"],
        removed=by_kind["removed"],
        restored=by_kind["restored"],
        counters=counter_series(
            source.readings, since=source.since, now=source.now, anomalies=anomalies
        ),
        runs=[run_summary(run) for run in source.runs],
        articles={rows.article.id: article_history(rows) for rows in source.articles},
    )


def article_event(event: Row[Any]) -> ArticleEvent:
    """A new, changed, removed or restored article's event with the word diff of each edited
    field, in reading order."""
    details = event.details or {}
    kind = event.kind
    note = removal_reason(details.get("reason"), details.get("status")) if kind == "removed" else ""
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
            FieldDiff.between(name, field_label(name), *map(value_text, diff[name]))
            for name in in_reading_order(details.get("fields") or list(diff))
            if name in diff
        ],
    )


def counter_anomaly_text(event: Row[Any]) -> CounterAnomalyText:
    """A "counter_anomaly" event in words."""
    details = event.details or {}
    sentence = counter_anomaly_sentence(
        str(details.get("anomaly", "")),
        details.get("total"),
        details.get("previous_total"),
        details.get("runs"),
    )
    return CounterAnomalyText(event.site, event.detected_at, sentence)


def counter_series(
    readings: Iterable[Row[Any]],
    *,
    since: datetime,
    now: datetime,
    anomalies: dict[str, list[CounterAnomalyText]] | None = None,
) -> list[CounterSeries]:
    """Visits per day of each site's counter from `since` to `now`, from its readings in time
    order (the last before `since` included), with its latest reading."""
    by_site: dict[str, list[Row[Any]]] = {}
    for reading in readings:
        by_site.setdefault(reading.site, []).append(reading)
    first_day = since.astimezone(UTC_PLUS_7).date()
    last_day = now.astimezone(UTC_PLUS_7).date()
    series = []
    for name in sorted(set(by_site) | set(anomalies or {})):
        known = [(r.observed_at, r.total) for r in by_site.get(name, []) if r.total is not None]
        latest = by_site[name][-1] if by_site.get(name) else None
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


def run_summary(run: Row[Any]) -> RunSummary:
    """A crawl run with its page and error counts."""
    stats = run.stats or {}
    return RunSummary(
        run_id=run.id,
        site=run.site,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        finish_reason=run.finish_reason,
        pages=int(stats.get("downloader/response_count", 0)),
        new=int(stats.get("coopspider/articles/new", 0)),
        changed=int(stats.get("coopspider/articles/changed", 0)),
        errors=int(stats.get("log_count/ERROR", 0)) + int(stats.get("coopspider/store/errors", 0)),
        unparsed=int(stats.get("coopspider/pages/unparsed", 0)),
    )


def article_history(rows: ArticleRows) -> ArticleHistory:
    """An article with all its versions and the word diff of each edit."""
    article = rows.article
    views: list[VersionView] = []
    previous: Row[Any] | None = None
    for version in rows.versions:
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


def version_diffs(old: Row[Any], new: Row[Any]) -> list[FieldDiff]:
    """The word diff of every field that differs between two versions of an article."""
    diffs = []
    for name, label in FIELD_LABELS.items():
        if name == "category":
            continue  # kept on the article, not on its versions
        before, after = value_text(getattr(old, name)), value_text(getattr(new, name))
        if before != after:
            diffs.append(FieldDiff.between(name, label, before, after))
    return diffs
