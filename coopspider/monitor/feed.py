"""The Atom 1.0 feed (RFC 4287) of the change events: new, edited, removed and restored articles
and counter anomalies, newest first.

`load_feed_source` reads the events of the last days with the report's loader
(report_data.load_events); `build_feed` turns them into a `Feed` without touching a session,
worded by the vocabulary; `render_feed` lays it out with the `feed.atom` template of the
monitor's Jinja2 environment (autoescape on: page text is escaped character data, never markup).

Each entry's id is a tag URI (RFC 4151) computed from what the event records (site, kind, time
found, article URL), so the same event has the same id in every feed written from the archive,
whenever and however often it is written, and a feed reader shows it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from coopspider.files import write_whole
from coopspider.monitor import templating
from coopspider.monitor.report_data import (
    FieldDiff,
    article_event,
    counter_anomaly_text,
    load_events,
    window_start,
)
from coopspider.monitor.vocabulary import (
    FIELD_LABELS,
    date_text,
    detected_sentence,
    event_label,
    removed_sentence,
    restored_sentence,
    shorten_diff,
)
from coopspider.text import strip_non_xml
from storage.content import UTC_PLUS_7

if TYPE_CHECKING:
    from sqlalchemy import Row

    from storage.reading import Reader

# The events a feed reader is told about ("baseline" says only that tracking began).
FEED_KINDS = ("new", "changed", "removed", "restored", "counter_anomaly")
# RFC 4151: "tag:" authority "," date ":" specific; the date the name was first used for these ids.
TAG_PREFIX = "tag:coopspider,2025:"
FEED_FILE = "feed.atom"


@dataclass(frozen=True)
class FeedEntry:
    """One change event as a feed entry."""

    id: str
    kind: str
    label: str  # what kind of change, in words
    site: str
    title: str
    link: str | None  # the article's page (http(s) only); None for a counter anomaly
    updated: datetime  # when the crawl found the change
    sentences: list[str]  # the summary's sentences, before the diff excerpt
    diffs: list[FieldDiff] = field(default_factory=list)  # shortened to a few words of context


@dataclass(frozen=True)
class Feed:
    """The feed of the changes found from `since` to `generated_at`, newest first."""

    id: str
    site: str | None
    days: int
    since: datetime
    generated_at: datetime
    updated: datetime  # the newest entry's time; the generation time when there is none
    entries: list[FeedEntry]
    alternate: str | None = None  # the HTML report this feed sits beside (a relative URL)


@dataclass(frozen=True)
class FeedSource:
    """The change events a feed is built from, as `load_feed_source` read them."""

    now: datetime
    days: int
    site: str | None
    events: list[Row[Any]]  # detected from the window's start to `now`, in the order recorded


def load_feed_source(
    reader: Reader, *, now: datetime, days: int, site: str | None = None
) -> FeedSource:
    """The events of the last `days` days (Vietnam calendar days, today included), as the
    report of those days reads them."""
    since = window_start(now, days)
    return FeedSource(now, days, site, load_events(reader, now=now, since=since, site=site))


def build_feed(
    events: Sequence[Row[Any]],
    *,
    now: datetime,
    days: int,
    site: str | None = None,
    alternate: str | None = None,
) -> Feed:
    """The feed of `events` (pure: reads no database): one entry per change, newest first; of
    events found at the same moment, the one recorded last first."""
    shown = [event for event in events if event.kind in FEED_KINDS]
    ordered = sorted(enumerate(shown), key=lambda pair: (pair[1].detected_at, pair[0]))
    entries = [feed_entry(event) for _, event in reversed(ordered)]
    return Feed(
        id=TAG_PREFIX + ("feed" if site is None else f"feed/{quote(site, safe='')}"),
        site=site,
        days=days,
        since=window_start(now, days),
        generated_at=now,
        updated=entries[0].updated if entries else now,
        entries=entries,
        alternate=alternate,
    )


def feed_of_source(source: FeedSource, alternate: str | None = None) -> Feed:
    return build_feed(
        source.events, now=source.now, days=source.days, site=source.site, alternate=alternate
    )


def entry_id(event: Row[Any]) -> str:
    """The event's tag URI: its site and kind, then a digest of the site, kind, time found (to
    the microsecond, in UTC) and article URL, which together tell any two events apart (the
    removals one run records share their time, not their URL)."""
    details = event.details or {}
    key = "\x1f".join(
        [
            event.site,
            event.kind,
            event.detected_at.astimezone(UTC).isoformat(timespec="microseconds"),
            str(details.get("url", "")),
        ]
    )
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{TAG_PREFIX}{quote(event.site, safe='')}/{event.kind}/{digest}"


def feed_entry(event: Row[Any]) -> FeedEntry:
    """One event as an entry: the label and title, the link, and the summary's words."""
    found = detected_sentence(event.site, event.detected_at)
    if event.kind == "counter_anomaly":
        anomaly = counter_anomaly_text(event)
        return FeedEntry(
            id=entry_id(event),
            kind=event.kind,
            label=event_label(event.kind),
            site=event.site,
            title=event.site,
            link=None,
            updated=event.detected_at,
            sentences=[found, anomaly.sentence],
        )
    article = article_event(event)
    sentences = [found]
    if event.kind == "new":
        sentences.append(f"{FIELD_LABELS['published_at']}: {date_text(article.published_at)}.")
    elif event.kind == "removed":
        sentences.append(removed_sentence(article.note))
    elif event.kind == "restored":
        sentences.append(restored_sentence())
    return FeedEntry(
        id=entry_id(event),
        kind=event.kind,
        label=event_label(event.kind),
        site=event.site,
        title=article.title or article.url,
        link=article.url if urlsplit(article.url).scheme in ("http", "https") else None,
        updated=event.detected_at,
        sentences=sentences,
        diffs=[
            FieldDiff(diff.field, diff.label, tuple(shorten_diff(diff.pieces)), diff.more)
            for diff in article.diffs
        ],
    )


def render_feed(feed: Feed) -> str:
    """The feed as an Atom 1.0 document; no character XML forbids (a control character an old
    archive kept) reaches it."""
    document = templating.environment().get_template("feed.atom").render(feed=feed)
    return strip_non_xml(document)


def write_feed(feed: Feed, path: Path) -> Path:
    """Write the feed to `path` whole (temporary file, then rename) and return the path."""
    write_whole(path, render_feed(feed))
    return path


def summary_line(feed: Feed) -> str:
    """What the feed holds, in one line for the terminal."""
    count = len(feed.entries)
    moment = feed.generated_at.astimezone(UTC_PLUS_7)
    return (
        f"{count} change{'' if count == 1 else 's'} in the {feed.days} days to "
        f"{moment:%Y-%m-%d %H:%M}"
    )
