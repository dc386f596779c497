"""An article's history: every stored version, each with what changed since the one before.

`find_article` and `load_history` read the archive; `build_history` is pure: it works from the
versions and events they loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from coopspider.profiles import classify
from coopspider.urls import host_of
from storage import UTC_PLUS_7, Article, ArticleVersion, ChangeEvent, versions_of_article
from storage import find_articles as find_by_url_or_id
from storage.tracking import article_events, describe_change, version_content


def find_article(session: Session, url: str) -> Article | None:
    """The archived article `url` points at: the same URL, else the same id on the same host."""
    candidates = find_by_url_or_id(session, url, classify(url).article_id)
    same_host = [article for article in candidates if host_of(article.url) == host_of(url)]
    return same_host[0] if same_host else None


def load_history(session: Session, article: Article) -> dict[str, Any]:
    """The history of one archived article (see `build_history`)."""
    return build_history(
        article, versions_of_article(session, article.id), article_events(session, article.id)
    )


def build_history(
    article: Article, versions: Sequence[ArticleVersion], events: Sequence[ChangeEvent]
) -> dict[str, Any]:
    """{"url", "site", "article_id", "title", "removed_at", "versions": [...], "events": [...]};
    each version after the first carries the "fields" that changed and their "diff"."""
    entries = []
    previous: ArticleVersion | None = None
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
                "published_at": (
                    version.published_at.astimezone(UTC_PLUS_7).isoformat()
                    if version.published_at
                    else None
                ),
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
