"""What a crawl changed: events recorded as articles are written and when a run ends.

The crawl is the only writer of change events (storage.changes documents their details):
"new" and "changed" are recorded in the transaction that stores the article, "restored" when a
removed article is served again, and "removed", "baseline" and "counter_anomaly" once a run has
finished, from everything the run saw. A run that failed removes nothing: a listing page or an
article it did not reach proves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, true, update
from sqlalchemy.orm import Session

from storage import schema
from storage.changes import event_row, record_event, record_events
from storage.content import describe_change, vietnam_iso
from storage.models import Article, ArticleVersion, ChangeEvent, CounterObservation, CrawlRun
from storage.reading import newest_version_numbers
from storage.repository import (
    SaveResult,
    StoredArticle,
    latest_version,
    store_articles,
)
from storage.warc import WarcFiles, record_captures

# The fields a "changed" event compares, in the order people read them.
DEFAULT_FROZEN_RUNS = 3


@dataclass(frozen=True)
class KnownArticle:
    """What the archive knows of an article when a crawl starts."""

    article_id: str
    url: str
    category: str | None
    published_at: datetime | None  # of the latest version
    last_seen_at: datetime  # last time the site served it (fetched, or answered 304)
    removed_at: datetime | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class ListingSeen:
    """One listing page a run read: which articles it showed and whether it was the last page."""

    category: str
    page: int
    article_ids: frozenset[str]  # the category's own articles: how far back the listing reaches
    last_page: bool
    # Every article the page links to, whatever category its URL names: the ones still on the
    # site (an article under two categories may be linked with the other one's URL).
    linked_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GoneSeen:
    """A known article that answered 404 or 410 in this run."""

    article_id: str
    status: int
    capture: Mapping[str, Any] | None = None  # the answer as served (HttpCapture's fields)


def known_articles(session: Session, site: str) -> list[KnownArticle]:
    """Every archived article of `site`, removed ones included, with its crawl state."""
    newest = _latest_published(site)
    query = (
        select(Article, newest.c.published_at)
        .join(newest, newest.c.article_pk == Article.id)
        .where(Article.site == site)
        .order_by(Article.id)
    )
    return [
        KnownArticle(
            article_id=article.article_id,
            url=article.url,
            category=article.category,
            published_at=published_at,
            last_seen_at=article.last_seen_at,
            removed_at=article.removed_at,
            etag=article.etag,
            last_modified=article.last_modified,
        )
        for article, published_at in session.execute(query)
    ]


def walk_may_stop_at_known(session: Session, site: str, run_id: int | None) -> bool:
    """Whether the crawl `run_id` may end a listing walk at a page of known articles: no crawl
    of the site since its latest finished one (before `run_id`) archived a new article without
    finishing. One killed half-way may have archived the newest new articles and not the older
    ones, which only a walk of every listing page finds again."""
    before = CrawlRun.id < run_id if run_id is not None else true()
    last_finished = session.scalar(
        select(func.max(CrawlRun.id)).where(
            CrawlRun.site == site, CrawlRun.status == "finished", before
        )
    )
    if last_finished is None:
        return False
    unfinished = select(CrawlRun.id).where(
        CrawlRun.site == site, CrawlRun.id > last_finished, CrawlRun.status != "finished", before
    )
    archived_new = select(ArticleVersion.id).where(
        ArticleVersion.crawl_run_id.in_(unfinished), ArticleVersion.version == 1
    )
    return not session.scalar(select(archived_new.exists()))


def is_baseline_run(session: Session, site: str, run_id: int) -> bool:
    """Whether this run is the site's baseline: no earlier run of the site has finished."""
    earlier = session.scalar(
        select(func.count())
        .select_from(CrawlRun)
        .where(CrawlRun.site == site, CrawlRun.status == "finished", CrawlRun.id != run_id)
    )
    return not earlier


def archive_articles(
    session: Session,
    articles: Sequence[Mapping[str, Any]],
    run_id: int,
    *,
    baseline: bool = False,
    warc: WarcFiles | None = None,
) -> list[SaveResult]:
    """Store crawled articles and record what each means: "new", "changed" or "restored"; the
    results in order, in one pass over the database (see `store_articles`).

    A baseline run records no per-article event (its one "baseline" event comes at the end).
    The HTTP validators in each article ("etag", "last_modified") are kept for the next request.
    With `warc`, the page of each new version (the article's "capture") is written to the WARC
    files and the version points at it: call `warc.sync()` before the commit.
    """
    stored = store_articles(session, articles, run_id)
    events: list[dict[str, Any]] = []
    restored: set[int] = set()
    pages: list[tuple[int, Mapping[str, Any]]] = []
    versions: list[int] = []
    for article, one in zip(articles, stored, strict=True):
        events.extend(_what_it_means(one, run_id, baseline))
        record = one.article
        if record["id"] not in restored and (
            event := _restored(session, record, one.latest["title"], run_id)
        ):
            events.append(event)
            restored.add(record["id"])
        capture = article.get("capture")
        if warc is not None and capture and one.result != "unchanged":
            pages.append((one.article["id"], capture))
            versions.append(one.latest["id"])
    record_events(session, events)
    if pages:
        assert warc is not None
        records = record_captures(session, warc, pages)
        session.execute(
            update(schema.article_versions).where(schema.article_versions.c.id == bindparam("pk")),
            [{"pk": pk, "warc_record_id": id_} for pk, id_ in zip(versions, records, strict=True)],
        )
    return [one.result for one in stored]


def _what_it_means(stored: StoredArticle, run_id: int, baseline: bool) -> list[dict[str, Any]]:
    """The "new" or "changed" event of one stored article (none in a baseline run)."""
    record, latest, previous = stored.article, stored.latest, stored.previous
    if baseline or stored.result == "unchanged":
        return []
    if previous is None:
        details = {
            "url": record["url"],
            "title": latest["title"],
            "published_at": vietnam_iso(latest["published_at"]),
        }
    else:
        fields, diff = describe_change(previous, latest)
        details = {
            "url": record["url"],
            "title": latest["title"],
            "from_version": previous["version"],
            "to_version": latest["version"],
            "fields": fields,
            "diff": diff,
        }
    kind = stored.result
    return [
        event_row(
            site=record["site"], kind=kind, run_id=run_id, article_pk=record["id"], details=details
        )
    ]


def confirm_unchanged(
    session: Session, site: str, article_id: str, run_id: int, seen_at: datetime
) -> bool:
    """Note that the site answered "304 Not Modified" for an article: it is unchanged and still
    there. False when the article is not in the archive."""
    table = schema.articles
    found = session.execute(
        select(table).where(table.c.site == site, table.c.article_id == article_id)
    ).mappings()
    row = found.one_or_none()
    if row is None:
        return False
    record = dict(row)
    seen_at = seen_at.astimezone(UTC)
    last_seen_at = max(record["last_seen_at"], seen_at)
    session.execute(
        update(table)
        .where(table.c.id == record["id"])
        .values(last_seen_at=last_seen_at, last_run_id=run_id)
    )
    latest = latest_version(session, record["id"])
    if latest is not None:
        versions = schema.article_versions
        session.execute(
            update(versions)
            .where(versions.c.id == latest["id"])
            .values(last_seen_at=max(latest["last_seen_at"], seen_at))
        )
    if event := _restored(session, record, latest["title"] if latest else "", run_id):
        record_events(session, [event])
    return True


def finish_tracking(
    session: Session,
    *,
    site: str,
    run_id: int,
    listings: Iterable[ListingSeen],
    gone: Iterable[GoneSeen],
    baseline: bool,
    frozen_runs: int = DEFAULT_FROZEN_RUNS,
    warc: WarcFiles | None = None,
) -> dict[str, int]:
    """The end-of-run events of a finished run: removals (404/410 first, then articles their
    listing no longer shows although it covers their date), restorations by a listing, the
    baseline count and counter anomalies. Returns how many events of each kind it recorded.

    With `warc`, the 404/410 answer of each removal is written to the WARC files and its event
    points at it: call `warc.sync()` before the commit."""
    now = datetime.now(UTC)
    recorded: dict[str, int] = {}

    def note(
        kind: str,
        article: Article | None,
        details: dict[str, Any],
        warc_record_id: int | None = None,
    ) -> None:
        record_event(
            session,
            site=site,
            kind=kind,
            run_id=run_id,
            article_pk=article.id if article else None,
            details=details,
            detected_at=now,
            warc_record_id=warc_record_id,
        )
        recorded[kind] = recorded.get(kind, 0) + 1

    gone_ids: set[str] = set()
    for answer in gone:
        article = _article(session, site, answer.article_id)
        gone_ids.add(answer.article_id)
        if article is None or article.removed_at is not None:
            continue
        article.removed_at = now
        details = _removal(session, article, "gone", status=answer.status)
        page = None
        if warc is not None and answer.capture:
            (page,) = record_captures(session, warc, [(article.id, answer.capture)])
        note("removed", article, details, page)

    pages = list(listings)
    # Shown by a listing: linked from one under any category's URL. An article filed under two
    # categories has one category in the archive (the one of the link first followed), and the
    # listing of that category may link it with the other one's URL.
    listed = frozenset().union(*(page.article_ids | page.linked_ids for page in pages)) - gone_ids
    for article in _articles(session, site, listed):
        article.last_listed_at = now
        if article.removed_at is not None:
            article.removed_at = None
            note("restored", article, {"url": article.url, "title": _title(session, article)})

    for article in _unlisted(session, site, pages, listed | gone_ids):
        article.removed_at = now
        note("removed", article, _removal(session, article, "unlisted"))

    if baseline:
        total = session.scalar(
            select(func.count()).select_from(Article).where(Article.site == site)
        )
        note("baseline", None, {"articles": total or 0})

    anomaly = counter_anomaly(session, site, frozen_runs, run_id=run_id)
    if anomaly is not None:
        note("counter_anomaly", None, anomaly)
    return recorded


def counter_anomaly(
    session: Session, site: str, frozen_runs: int, *, run_id: int | None = None
) -> dict[str, Any] | None:
    """The anomaly the site's latest counter reading shows, if any: lower than the reading
    before it, or equal to the `frozen_runs` - 1 readings before it (reported once, when the
    streak reaches that length). With `run_id`, only a reading taken by that run counts as the
    latest: a run that read no counter reports nothing."""
    rows = session.execute(
        select(CounterObservation.total, CounterObservation.crawl_run_id)
        .where(CounterObservation.site == site, CounterObservation.total.is_not(None))
        .order_by(CounterObservation.observed_at.desc(), CounterObservation.id.desc())
        .limit(max(frozen_runs, 1) + 1)
    ).all()
    if len(rows) < 2 or (run_id is not None and rows[0].crawl_run_id != run_id):
        return None
    totals = [row.total for row in rows]
    total, previous = totals[0], totals[1]
    if total < previous:
        return {"anomaly": "decrease", "total": total, "previous_total": previous, "runs": 2}
    streak = totals[:frozen_runs]
    longer = totals[frozen_runs : frozen_runs + 1]
    if (
        frozen_runs >= 2
        and len(streak) == frozen_runs
        and set(streak) == {total}
        and longer != [total]
    ):
        return {
            "anomaly": "frozen",
            "total": total,
            "previous_total": previous,
            "runs": frozen_runs,
        }
    return None


def _article(session: Session, site: str, article_id: str) -> Article | None:
    return session.scalars(
        select(Article).where(Article.site == site, Article.article_id == article_id)
    ).one_or_none()


def _articles(session: Session, site: str, article_ids: Iterable[str]) -> list[Article]:
    ids = sorted(set(article_ids))
    found: list[Article] = []
    for start in range(0, len(ids), 500):  # stay below every database's bound-parameter limit
        query = select(Article).where(
            Article.site == site, Article.article_id.in_(ids[start : start + 500])
        )
        found.extend(session.scalars(query))
    return found


def _title(session: Session, article: Article) -> str:
    latest = latest_version(session, article.id)
    return latest["title"] if latest else ""


def _removal(
    session: Session, article: Article, reason: str, *, status: int | None = None
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "url": article.url,
        "title": _title(session, article),
        "reason": reason,
    }
    if status is not None:
        details["status"] = status
    return details


def _restored(
    session: Session, record: Mapping[str, Any], title: str, run_id: int
) -> dict[str, Any] | None:
    """The "restored" event of a removed article (its row) the site serves again, with its
    latest title, and the article no longer removed; None when it was not removed, or was
    removed for leaving its listing: a hidden article often keeps its page, and only the listing
    can bring it back."""
    if record["removed_at"] is None:
        return None
    if _last_removal_reason(session, record["id"]) == "unlisted":
        return None
    table = schema.articles
    session.execute(update(table).where(table.c.id == record["id"]).values(removed_at=None))
    return event_row(
        site=record["site"],
        kind="restored",
        run_id=run_id,
        article_pk=record["id"],
        details={"url": record["url"], "title": title},
    )


def _last_removal_reason(session: Session, article_pk: int) -> str | None:
    details = session.scalars(
        select(ChangeEvent.details)
        .where(ChangeEvent.article_pk == article_pk, ChangeEvent.kind == "removed")
        .order_by(ChangeEvent.id.desc())
        .limit(1)
    ).first()
    return details.get("reason") if details else None


def _unlisted(
    session: Session, site: str, pages: list[ListingSeen], shown: frozenset[str] | set[str]
) -> list[Article]:
    """Articles of a category, shown by its listing before, whose listing, read without a gap
    from page 1, reaches past their date yet no longer shows them."""
    by_category: dict[str, dict[int, ListingSeen]] = {}
    for page in pages:
        by_category.setdefault(page.category, {})[page.page] = page
    unlisted: list[Article] = []
    for category, read in by_category.items():
        covered: list[ListingSeen] = []
        while (number := len(covered) + 1) in read:
            covered.append(read[number])
        ids = frozenset().union(*(page.article_ids for page in covered))
        if not ids:
            # An empty listing (a glitch, an error page served as 200) proves nothing.
            continue
        newest = _latest_published(site)
        query = (
            select(Article)
            .join(newest, newest.c.article_pk == Article.id)
            .where(
                Article.site == site,
                Article.category == category,
                Article.removed_at.is_(None),
                Article.last_listed_at.is_not(None),
            )
        )
        if not covered[-1].last_page:
            # Only dates strictly newer than the oldest shown: the next page, unread, may hold
            # other articles of that same day.
            oldest = session.scalar(
                select(func.min(newest.c.published_at))
                .select_from(Article)
                .join(newest, newest.c.article_pk == Article.id)
                .where(Article.site == site, Article.article_id.in_(sorted(ids)))
            )
            if oldest is None:
                continue
            query = query.where(newest.c.published_at > oldest)
        unlisted.extend(
            article for article in session.scalars(query) if article.article_id not in shown
        )
    return unlisted


def _latest_published(site: str) -> Any:
    """Subquery (article_pk, published_at) of each article's latest version on `site`."""
    newest = newest_version_numbers(of_site=site)
    return (
        select(ArticleVersion.article_pk, ArticleVersion.published_at)
        .join(
            newest,
            and_(
                newest.c.article_pk == ArticleVersion.article_pk,
                newest.c.version == ArticleVersion.version,
            ),
        )
        .subquery()
    )
