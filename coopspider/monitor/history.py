"""An article's history: every stored version, each with what changed since the one before.

`find_article` and `load_history` read the archive; `build_history` is pure: it works from the
versions and events they loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from coopspider.profiles import classify
from coopspider.urls import host_of
from storage.content import describe_change, version_content, vietnam_iso
from storage.reading import article_events, versions_of_article
from storage.reading import find_articles as find_by_url_or_id

if TYPE_CHECKING:
    from sqlalchemy import Row

    from storage.reading import Reader


def find_article(reader: Reader, url: str) -> Row[Any] | None:
    """The archived article `url` points at (a row of the articles table): the same URL, else
    the same id on the same host."""
    candidates = find_by_url_or_id(reader, url, classify(url).article_id)
    same_host = [article for article in candidates if host_of(article.url) == host_of(url)]
    return same_host[0] if same_host else None


def load_history(reader: Reader, article: Row[Any]) -> dict[str, Any]:
    """The history of one archived article (see `build_history`)."""
    return build_history(
        article, versions_of_article(reader, article.id), article_events(reader, article.id)
    )


def build_history(
    article: Row[Any], versions: Sequence[Row[Any]], events: Sequence[Row[Any]]
) -> dict[str, Any]:
    """{"url", "site", "article_id", "title", "removed_at", "versions": [...], "events": [...]};
    each version after the first carries the "fields" that changed and their "diff"."""
    entries = []
    previous: Row[Any] | None = None
    for version in versions:
        fields, diff = (
            describe_change(version_content(previous), version_content(version))
            if previous
            else ([], {})
        )
        entries.append(
            {
                "version": version.version,
                "title": version.title,
                "published_at": vietnam_iso(version.published_at),
                "fetched_at": version.fetched_at.isoformat(),
                "last_seen_at": version.last_seen_at.isoformat(),
                "crawl_run_id": version.crawl_run_id,
                "fields": fields,
                "diff": diff,
            }
        )
        previous = version
    return {
        "url": article.url,
        "site": article.site,
        "article_id": article.article_id,
        "title": versions[-1].title if versions else "",
        "removed_at": article.removed_at.isoformat() if article.removed_at else None,
        "versions": entries,
        "events": [
            {
                "kind": event.kind,
                "detected_at": event.detected_at.isoformat(),
                "crawl_run_id": event.crawl_run_id,
                "details": dict(event.details),
            }
            for event in events
        ],
    }
