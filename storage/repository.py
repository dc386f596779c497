"""Repository functions: read and write the archive inside a session the caller owns."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.content import UTC_PLUS_7, content_hash, in_utc, parse_timestamp
from storage.models import Article, ArticleVersion, CounterObservation, CrawlRun
from storage.reading import newest_version_numbers
from storage.schema import RUN_STATUSES

SaveResult = Literal["new", "changed", "unchanged"]


def start_run(
    session: Session,
    *,
    site: str,
    spider: str,
    base_url: str,
    started_at: datetime,
    owner: Mapping[str, Any] | None = None,
) -> int:
    """Record a crawl run as "running" and return its id.

    `owner` (which process runs the crawl) is kept as the run's stats until it finishes, so a
    later crawl can tell whether a run still shown as running is alive.
    """
    run = CrawlRun(
        site=site,
        spider=spider,
        base_url=base_url,
        started_at=in_utc(started_at),
        status="running",
        stats=_json_safe(owner) if owner else None,
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    *,
    finished_at: datetime,
    status: str,
    finish_reason: str | None,
    stats: Mapping[str, Any],
) -> None:
    """Close a crawl run with its outcome and its (JSON-safe copy of the) crawler stats."""
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"a run finishes as 'finished' or 'failed', not {status!r}")
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run with id {run_id}")
    run.finished_at = in_utc(finished_at)
    run.status = status
    run.finish_reason = finish_reason
    run.stats = _json_safe(stats)


def close_abandoned_runs(
    session: Session,
    site: str,
    *,
    is_abandoned: Callable[[CrawlRun], bool],
    closed_at: datetime,
) -> list[CrawlRun]:
    """Mark as failed, with finish_reason "abandoned", the runs of `site` still shown as running
    whose crawl is gone (killed, or its machine went down); `is_abandoned(run)` decides.

    Returns the runs closed. Their rows and what they stored stay: each item was committed on
    its own, so the archive is whole up to the moment the crawl died.
    """
    running = session.scalars(
        select(CrawlRun)
        .where(CrawlRun.site == site, CrawlRun.status == "running")
        .order_by(CrawlRun.id)
        .with_for_update()
    ).all()
    closed = [run for run in running if is_abandoned(run)]
    for run in closed:
        run.status = "failed"
        run.finish_reason = "abandoned"
        run.finished_at = in_utc(closed_at)
    return closed


# The stats keys of the process that records a run (see start_run's `owner`).
OWNER_HOST = "coopspider/host"
OWNER_PID = "coopspider/pid"


def run_owner(host: str, pid: int) -> dict[str, str | int]:
    """The `owner` of a run recorded by process `pid` on machine `host`."""
    return {OWNER_HOST: host, OWNER_PID: pid}


def owner_of(run: CrawlRun) -> tuple[object, object]:
    """(machine, process id) of the process that recorded `run`, as its stats hold them (any
    JSON value: an older or foreign writer may have stored anything); (None, None) if unknown."""
    owner = run.stats or {}
    return owner.get(OWNER_HOST), owner.get(OWNER_PID)


def run_of_process(
    session: Session, site: str, *, host: str, pid: int, after: int | None
) -> CrawlRun | None:
    """The run of `site` that the crawl process `pid` on `host` recorded, after run `after`:
    how whoever started a crawl finds that crawl's own run, whatever other crawls of the site
    record meanwhile."""
    query = select(CrawlRun).where(CrawlRun.site == site).order_by(CrawlRun.id)
    if after is not None:
        query = query.where(CrawlRun.id > after)
    return next((run for run in session.scalars(query) if owner_of(run) == (host, pid)), None)


def get_run(session: Session, run_id: int) -> CrawlRun | None:
    """The crawl run with this id, or None."""
    return session.get(CrawlRun, run_id)


def latest_run(session: Session, site: str, *, after: int | None = None) -> CrawlRun | None:
    """The most recently started crawl run of `site` (recorded after run `after`), or None."""
    query = select(CrawlRun).where(CrawlRun.site == site).order_by(CrawlRun.id.desc()).limit(1)
    if after is not None:
        query = query.where(CrawlRun.id > after)
    return session.scalars(query).first()


@dataclass(frozen=True)
class StoredArticle:
    """What `store_articles` did with one article: its verdict, the article row, and the latest
    version before and after (the same row when the content was unchanged)."""

    result: SaveResult
    article: Article
    previous: ArticleVersion | None
    latest: ArticleVersion


def store_articles(
    session: Session, articles: Sequence[Mapping[str, Any]], run_id: int
) -> list[StoredArticle]:
    """Store crawled articles (ArticleItem fields), in order, and say of each whether it is
    new, changed or unchanged; an article repeated in the list is stored as often as it
    appears, as if one call after the other.

    A version row is added only when the normalised content differs from the latest version.
    Times are ISO 8601 text; without an offset, published_at is read as +07:00 and fetched_at
    as UTC; an empty fetched_at means now.

    The ORM's cost is per flush and per query far more than per row: writing a crawl's articles
    a batch at a time takes a third of the CPU of one at a time.
    """
    stored: list[StoredArticle] = []
    for distinct in _without_repeats(articles):
        stored.extend(_store_distinct(session, distinct, run_id))
    return stored


def _without_repeats(articles: Sequence[Mapping[str, Any]]) -> Iterator[list[Mapping[str, Any]]]:
    """Consecutive runs of `articles` in which no article appears twice."""
    run: list[Mapping[str, Any]] = []
    keys: set[tuple[str, str]] = set()
    for article in articles:
        key = _article_key(article)
        if key in keys:
            yield run
            run, keys = [], set()
        run.append(article)
        keys.add(key)
    if run:
        yield run


def _article_key(article: Mapping[str, Any]) -> tuple[str, str]:
    return article["site"], str(article["article_id"])


def _store_distinct(
    session: Session, articles: list[Mapping[str, Any]], run_id: int
) -> list[StoredArticle]:
    seen = [in_utc(parse_timestamp(a.get("fetched_at")) or datetime.now(UTC)) for a in articles]
    records, created = _lock_or_create_articles(session, articles, run_id, seen)
    latest = _latest_versions(
        session, [record.id for key, record in records.items() if key not in created]
    )
    stored = []
    for article, seen_at in zip(articles, seen, strict=True):
        record = records[_article_key(article)]
        record.url = article["url"]
        record.category = article.get("category")
        record.last_run_id = run_id
        record.last_seen_at = max(record.last_seen_at, seen_at)
        previous = latest.get(record.id)
        digest = content_hash(article)
        if previous is not None and previous.content_hash == digest:
            previous.last_seen_at = max(previous.last_seen_at, seen_at)
            stored.append(StoredArticle("unchanged", record, previous, previous))
            continue
        version = _new_version(article, record, previous, digest, run_id, seen_at)
        session.add(version)
        stored.append(StoredArticle("changed" if previous else "new", record, previous, version))
    session.flush()
    return stored


def _new_version(
    article: Mapping[str, Any],
    record: Article,
    previous: ArticleVersion | None,
    digest: str,
    run_id: int,
    seen_at: datetime,
) -> ArticleVersion:
    published = parse_timestamp(article.get("published_at"), UTC_PLUS_7)
    return ArticleVersion(
        article_pk=record.id,
        version=previous.version + 1 if previous else 1,
        content_hash=digest,
        title=article["title"],
        published_at=in_utc(published) if published else None,
        published_raw=article.get("published_raw"),
        author=article.get("author"),
        summary=article.get("summary"),
        body=article["body"],
        images=[
            {"url": image.get("url"), "caption": image.get("caption")}
            for image in article.get("images") or ()
        ],
        fetched_at=seen_at,
        crawl_run_id=run_id,
        first_seen_at=seen_at,
        last_seen_at=seen_at,
    )


def latest_version(session: Session, article_pk: int) -> ArticleVersion | None:
    """The newest version of an article, or None when it has none."""
    return _latest_versions(session, [article_pk]).get(article_pk)


def _latest_versions(session: Session, article_pks: list[int]) -> dict[int, ArticleVersion]:
    """The newest version of each of these articles that has one, by article."""
    if not article_pks:
        return {}
    newest = newest_version_numbers(ArticleVersion.article_pk.in_(article_pks))
    query = select(ArticleVersion).join(
        newest,
        and_(
            ArticleVersion.article_pk == newest.c.article_pk,
            ArticleVersion.version == newest.c.version,
        ),
    )
    return {version.article_pk: version for version in session.scalars(query)}


def _lock_or_create_articles(
    session: Session, articles: list[Mapping[str, Any]], run_id: int, seen: list[datetime]
) -> tuple[dict[tuple[str, str], Article], set[tuple[str, str]]]:
    """The rows of these (distinct) articles, locked for this transaction (PostgreSQL), created
    when missing; and the keys of those this call created."""
    wanted = dict(zip(map(_article_key, articles), zip(articles, seen, strict=True), strict=True))
    records = _locked_articles(session, list(wanted))
    created: set[tuple[str, str]] = set()
    while missing := [key for key in wanted if key not in records]:
        new = {key: _new_article(key, *wanted[key], run_id) for key in missing}
        try:
            with session.begin_nested():
                session.add_all(new.values())
        except IntegrityError:
            # Another writer inserted some of them first and has committed: lock theirs.
            theirs = _locked_articles(session, missing)
            if not theirs:
                raise
            records.update(theirs)
            continue
        records.update(new)
        created.update(new)
    return records, created


def _new_article(
    key: tuple[str, str], article: Mapping[str, Any], seen_at: datetime, run_id: int
) -> Article:
    site, article_id = key
    return Article(
        site=site,
        article_id=article_id,
        url=article["url"],
        category=article.get("category"),
        first_seen_at=seen_at,
        last_seen_at=seen_at,
        last_run_id=run_id,
    )


def _locked_articles(
    session: Session, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], Article]:
    query = (
        select(Article).where(tuple_(Article.site, Article.article_id).in_(keys)).with_for_update()
    )
    return {(record.site, record.article_id): record for record in session.scalars(query)}


def save_counter(session: Session, counter: Mapping[str, Any], run_id: int) -> None:
    """Store one visitor-counter reading (CounterItem fields)."""
    observed_at = parse_timestamp(counter.get("observed_at")) or datetime.now(UTC)
    session.add(
        CounterObservation(
            site=counter["site"],
            url=counter["url"],
            observed_at=in_utc(observed_at),
            total=counter.get("total"),
            online=counter.get("online"),
            crawl_run_id=run_id,
        )
    )
    session.flush()


def count_articles(session: Session, site: str | None = None) -> int:
    """Number of articles stored, for one site or all."""
    query = select(func.count()).select_from(Article)
    if site is not None:
        query = query.where(Article.site == site)
    return session.scalar(query) or 0


def _json_safe(value: Any) -> Any:
    """A copy of `value` that json.dumps accepts and every database stores (finite numbers)."""
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)
