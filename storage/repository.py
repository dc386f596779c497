"""Repository functions: read and write the archive inside a session the caller owns."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, bindparam, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import schema
from storage.content import UTC_PLUS_7, content_hash, in_utc, parse_timestamp
from storage.fulltext import index_versions
from storage.models import Article, CounterObservation, CrawlRun
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
    """What `store_articles` did with one article: its verdict, its row in `articles` as written,
    and the latest version before and after (the same row when the content was unchanged), each
    a mapping of column names to values."""

    result: SaveResult
    article: Mapping[str, Any]
    previous: Mapping[str, Any] | None
    latest: Mapping[str, Any]


def store_articles(
    session: Session, articles: Sequence[Mapping[str, Any]], run_id: int
) -> list[StoredArticle]:
    """Store crawled articles (ArticleItem fields), in order, and say of each whether it is
    new, changed or unchanged; an article repeated in the list is stored as often as it
    appears, as if one call after the other.

    A version row is added only when the normalised content differs from the latest version,
    and becomes its article's searchable text (storage.fulltext). The HTTP validators of each
    article ("etag", "last_modified") are kept for the next request. Times are ISO 8601 text;
    without an offset, published_at is read as +07:00 and fetched_at as UTC; an empty
    fetched_at means now.

    The rows are written with Core statements, one per table and batch (`executemany`), not
    through the ORM's unit of work, which on SQLite inserts one row at a time to read each new
    id back: the ids are read back with one query where something points at them.
    """
    session.flush()  # what the caller added through the ORM comes first, as with autoflush
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


# Executemany updates by primary key; the parameters name the columns to set ("pk" the row).
_UPDATE_ARTICLE = update(schema.articles).where(schema.articles.c.id == bindparam("pk"))
_UPDATE_VERSION = update(schema.article_versions).where(
    schema.article_versions.c.id == bindparam("pk")
)


def _store_distinct(
    session: Session, articles: list[Mapping[str, Any]], run_id: int
) -> list[StoredArticle]:
    seen = [in_utc(parse_timestamp(a.get("fetched_at")) or datetime.now(UTC)) for a in articles]
    records, created = _lock_or_create_articles(session, articles, run_id, seen)
    latest = _latest_versions(
        session, [record["id"] for key, record in records.items() if key not in created]
    )
    stored: list[StoredArticle] = []
    updated: list[dict[str, Any]] = []
    seen_again: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    for article, seen_at in zip(articles, seen, strict=True):
        key = _article_key(article)
        record = {**records[key], **_article_fields(article), "last_run_id": run_id}
        record["last_seen_at"] = max(record["last_seen_at"], seen_at)
        if key not in created:
            updated.append({"pk": record["id"], **{name: record[name] for name in _EACH_CRAWL}})
        previous = latest.get(record["id"])
        digest = content_hash(article)
        if previous is not None and previous["content_hash"] == digest:
            if seen_at > previous["last_seen_at"]:
                seen_again.append({"pk": previous["id"], "last_seen_at": seen_at})
            stored.append(StoredArticle("unchanged", record, previous, previous))
            continue
        version = _new_version(article, record["id"], previous, digest, run_id, seen_at)
        versions.append(version)
        stored.append(StoredArticle("changed" if previous else "new", record, previous, version))
    if updated:
        session.execute(_UPDATE_ARTICLE, updated)
    if seen_again:
        session.execute(_UPDATE_VERSION, seen_again)
    _insert_versions(session, versions)
    replaced = [one.previous for one in stored if one.result == "changed" and one.previous]
    index_versions(
        session,
        [(v["article_pk"], v["id"], v["title"], v["body"]) for v in versions],
        [(v["id"], v["title"], v["body"]) for v in replaced],
    )
    return stored


# The columns of `articles` each crawl of an article sets.
_EACH_CRAWL = ("url", "category", "etag", "last_modified", "last_run_id", "last_seen_at")


def _article_fields(article: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of `articles` an article item sets."""
    return {
        "url": article["url"],
        "category": article.get("category"),
        "etag": article.get("etag"),
        "last_modified": article.get("last_modified"),
    }


def _insert_versions(session: Session, versions: list[dict[str, Any]]) -> None:
    """Insert new versions with one statement and give each its id, read back in one query."""
    if not versions:
        return
    table = schema.article_versions
    session.execute(insert(table), versions)
    keys = [(version["article_pk"], version["version"]) for version in versions]
    query = select(table.c.id, table.c.article_pk, table.c.version).where(
        tuple_(table.c.article_pk, table.c.version).in_(keys)
    )
    ids = {(pk, number): id_ for id_, pk, number in session.execute(query)}
    for version, key in zip(versions, keys, strict=True):
        version["id"] = ids[key]


def _new_version(
    article: Mapping[str, Any],
    article_pk: int,
    previous: Mapping[str, Any] | None,
    digest: str,
    run_id: int,
    seen_at: datetime,
) -> dict[str, Any]:
    published = parse_timestamp(article.get("published_at"), UTC_PLUS_7)
    return {
        "article_pk": article_pk,
        "version": previous["version"] + 1 if previous else 1,
        "content_hash": digest,
        "title": article["title"],
        "published_at": in_utc(published) if published else None,
        "published_raw": article.get("published_raw"),
        "author": article.get("author"),
        "summary": article.get("summary"),
        "body": article["body"],
        "images": [
            {"url": image.get("url"), "caption": image.get("caption")}
            for image in article.get("images") or ()
        ],
        "fetched_at": seen_at,
        "crawl_run_id": run_id,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "warc_record_id": None,
    }


def latest_version(session: Session, article_pk: int) -> dict[str, Any] | None:
    """The newest version of an article (its columns), or None when it has none."""
    return _latest_versions(session, [article_pk]).get(article_pk)


def _latest_versions(session: Session, article_pks: list[int]) -> dict[int, dict[str, Any]]:
    """The newest version (its columns) of each of these articles that has one, by article."""
    if not article_pks:
        return {}
    table = schema.article_versions
    newest = newest_version_numbers(table.c.article_pk.in_(article_pks))
    query = select(table).join(
        newest,
        and_(table.c.article_pk == newest.c.article_pk, table.c.version == newest.c.version),
    )
    return {row["article_pk"]: dict(row) for row in session.execute(query).mappings()}


def _lock_or_create_articles(
    session: Session, articles: list[Mapping[str, Any]], run_id: int, seen: list[datetime]
) -> tuple[dict[tuple[str, str], dict[str, Any]], set[tuple[str, str]]]:
    """The rows of these (distinct) articles, locked for this transaction (PostgreSQL), created
    when missing; and the keys of those this call created."""
    wanted = dict(zip(map(_article_key, articles), zip(articles, seen, strict=True), strict=True))
    records = _locked_articles(session, list(wanted))
    created: set[tuple[str, str]] = set()
    while missing := [key for key in wanted if key not in records]:
        try:
            with session.begin_nested():
                session.execute(
                    insert(schema.articles),
                    [_new_article(key, *wanted[key], run_id) for key in missing],
                )
        except IntegrityError:
            # Another writer inserted some of them first and has committed: lock theirs.
            theirs = _locked_articles(session, missing)
            if not theirs:
                raise
            records.update(theirs)
            continue
        records.update(_locked_articles(session, missing))  # their ids, in one query
        created.update(missing)
    return records, created


def _new_article(
    key: tuple[str, str], article: Mapping[str, Any], seen_at: datetime, run_id: int
) -> dict[str, Any]:
    site, article_id = key
    return {
        "site": site,
        "article_id": article_id,
        **_article_fields(article),
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "last_run_id": run_id,
    }


def _locked_articles(
    session: Session, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    table = schema.articles
    query = (
        select(table).where(tuple_(table.c.site, table.c.article_id).in_(keys)).with_for_update()
    )
    rows = session.execute(query).mappings()
    return {(row["site"], row["article_id"]): dict(row) for row in rows}


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
