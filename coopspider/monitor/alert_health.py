"""Crawl health: what one crawl run's outcome and stats say about the scraper (pure functions).

A quiet site and a broken scraper look alike in the change events (nothing new); these problems
tell them apart. Each problem is alerted once while it lasts (storage.alerts.record_run_health).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage import RUN_INTERRUPTED

ARTICLE_KEYS = (
    "coopspider/articles/new",
    "coopspider/articles/changed",
    "coopspider/articles/unchanged",
)
# Article links the category listings showed: a repeat crawl that finds nothing new to read
# still sees the site's articles there, so it is not "a crawl that found no articles".
LISTED_KEY = "coopspider/listings/articles_listed"
UNPARSED_PAGES_KEY = "coopspider/pages/unparsed"
UNPARSED_DATES_KEY = "coopspider/date_unparsed"


@dataclass(frozen=True)
class Thresholds:
    """When unparsed pages or dates count as "many": at least `minimum`, and at least `share` of
    the article pages (parsed or not) or of the articles read."""

    minimum: int = 3
    share: float = 0.1


@dataclass(frozen=True)
class RunFacts:
    """One crawl run as the health check sees it."""

    status: str  # "running", "finished" or "failed"
    finish_reason: str | None
    started_at: datetime
    stats: Mapping[str, Any]  # the run's crawler stats; empty while it runs
    archived_before: int  # articles of the site the archive held before the run started
    stale: bool = False  # still "running" long after it should have ended


@dataclass(frozen=True)
class RunHealth:
    """The health kinds the run lets us judge, and the problems it shows (kind -> details)."""

    judged: frozenset[str]
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)


def judge_run(facts: RunFacts, thresholds: Thresholds = Thresholds()) -> RunHealth:
    """The health problems of one run.

    A run still marked running (killed outright) only says it did not finish. A failed run's
    article count is explained by the failure, so "no articles" is judged on finished runs only.
    A run interrupted by Ctrl-C judges nothing: the user stopped it, the scraper did not fail.
    """
    if facts.status == "failed" and facts.finish_reason == RUN_INTERRUPTED:
        return RunHealth(frozenset())
    if facts.status == "running":
        if not facts.stale:
            return RunHealth(frozenset())
        return RunHealth(frozenset({"run_failed"}), {"run_failed": {"reason": "unfinished"}})

    stats = facts.stats
    articles = sum(_count(stats, key) for key in ARTICLE_KEYS)
    unparsed_pages = _count(stats, UNPARSED_PAGES_KEY)
    unparsed_dates = _count(stats, UNPARSED_DATES_KEY)
    judged = {"run_failed", "pages_unparsed", "dates_unparsed"}
    problems: dict[str, dict[str, Any]] = {}
    if facts.status == "failed":
        problems["run_failed"] = {"reason": facts.finish_reason or "unknown"}
    else:
        judged.add("no_articles")
        if articles == 0 and _count(stats, LISTED_KEY) == 0 and facts.archived_before > 0:
            problems["no_articles"] = {"archived": facts.archived_before}
    if _many(unparsed_pages, unparsed_pages + articles, thresholds):
        problems["pages_unparsed"] = {
            "unparsed": unparsed_pages,
            "pages": unparsed_pages + articles,
        }
    if _many(unparsed_dates, articles, thresholds):
        problems["dates_unparsed"] = {"unparsed": unparsed_dates, "articles": articles}
    return RunHealth(frozenset(judged), problems)


def _many(count: int, total: int, thresholds: Thresholds) -> bool:
    return count >= thresholds.minimum and count >= thresholds.share * total


def _count(stats: Mapping[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    return value if isinstance(value, int) else 0
