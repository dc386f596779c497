"""The readers' queries: Core selects on the tables of storage.schema, without the ORM.

Each takes a Connection (`with database.read() as connection:`, which spares a quick read
command the import of the ORM and the models) or a Session (which runs the same selects: the
crawl cycle, the writer and the tests read with the session they hold). Rows expose their
columns as attributes (`event.kind`, `version.title`), as the models do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Subquery, Table, and_, func, select

from storage.content import in_utc, vietnam_iso
from storage.schema import article_versions, articles, change_events, crawl_runs

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy.orm import Session

    from storage.models import Article, ArticleVersion

    # What readers query with: a connection, or a session (whose execute runs Core selects too).
    Reader: TypeAlias = Connection | Session


class TableRow:
    """The columns of one table in a row of a join, by attribute: `article.url`."""

    __slots__ = ("_values",)

    def __init__(self, table: Table, values: Sequence[Any]) -> None:
        self._values = dict(zip(table.c.keys(), values, strict=True))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


def archived_sites(reader: Reader) -> list[str]:
    """The names of the sites the archive holds crawls of, sorted."""
    return sorted(reader.execute(select(crawl_runs.c.site).distinct()).scalars())


def list_events(
    reader: Reader,
    *,
    site: str | None = None,
    run_ids: Iterable[int] | None = None,
    kinds: Sequence[str] | None = None,
    since: datetime | None = None,
) -> list[Row[Any]]:
    """Change events in the order they were recorded, filtered by site, runs, kinds and time."""
    query = select(change_events).order_by(change_events.c.id)
    if site is not None:
        query = query.where(change_events.c.site == site)
    if run_ids is not None:
        query = query.where(change_events.c.crawl_run_id.in_(list(run_ids)))
    if kinds is not None:
        query = query.where(change_events.c.kind.in_(list(kinds)))
    if since is not None:
        query = query.where(change_events.c.detected_at >= since.astimezone(UTC))
    return list(reader.execute(query))


def _rows(
    reader: Reader, table: Table, where: ColumnElement[bool], order_by: str
) -> list[Row[Any]]:
    """The rows of `table` that `where` selects, ordered by the column `order_by`."""
    return list(reader.execute(select(table).where(where).order_by(table.c[order_by])))


def article_events(reader: Reader, article_pk: int) -> list[Row[Any]]:
    """The change events of one article, in the order they were recorded."""
    return _rows(reader, change_events, change_events.c.article_pk == article_pk, "id")


def find_articles(reader: Reader, url: str, article_id: str | None = None) -> list[Row[Any]]:
    """Articles archived under exactly `url`; failing that, those with `article_id` (the same
    article may have been crawled under another category path, scheme or host)."""
    exact = _rows(reader, articles, articles.c.url == url, "id")
    if exact or article_id is None:
        return exact
    return _rows(reader, articles, articles.c.article_id == article_id, "id")


def versions_of_article(reader: Reader, article_pk: int) -> list[Row[Any]]:
    """Every version of an article, oldest first."""
    return _rows(reader, article_versions, article_versions.c.article_pk == article_pk, "version")


def newest_version_numbers(*criteria: ColumnElement[bool], of_site: str | None = None) -> Subquery:
    """Subquery (article_pk, version): each article's newest version number, among the versions
    `criteria` select and, with `of_site`, the articles of that site."""
    versions = article_versions.c
    query = select(versions.article_pk, func.max(versions.version).label("version"))
    if of_site is not None:
        query = query.join(articles, articles.c.id == versions.article_pk).where(
            articles.c.site == of_site
        )
    return query.where(*criteria).group_by(versions.article_pk).subquery()


def latest_versions(
    reader: Reader, site: str | None = None, since: datetime | None = None
) -> Iterator[tuple[TableRow, TableRow]]:
    """Each article with its latest version, by site, newest publication first, then by id.

    With `since`, only articles whose latest version was first archived at or after it.
    """
    newest = newest_version_numbers()
    versions = article_versions.c
    query = (
        select(articles, article_versions)
        .join(newest, newest.c.article_pk == articles.c.id)
        .join(
            article_versions,
            and_(versions.article_pk == articles.c.id, versions.version == newest.c.version),
        )
        .order_by(articles.c.site, versions.published_at.desc().nulls_last(), articles.c.id)
    )
    return _pairs(reader, query, site, since)


def all_versions(
    reader: Reader, site: str | None = None, since: datetime | None = None
) -> Iterator[tuple[TableRow, TableRow]]:
    """Every archived version of every article, by site, article and version number.

    With `since`, only the versions first archived at or after it.
    """
    query = (
        select(articles, article_versions)
        .join(article_versions, article_versions.c.article_pk == articles.c.id)
        .order_by(articles.c.site, articles.c.id, article_versions.c.version)
    )
    return _pairs(reader, query, site, since)


def _pairs(
    reader: Reader, query: Select[Any], site: str | None, since: datetime | None
) -> Iterator[tuple[TableRow, TableRow]]:
    """The (article, version) pairs of a select of every column of both tables, of `site` and
    first archived at or after `since`; fetched 500 rows at a time."""
    if site is not None:
        query = query.where(articles.c.site == site)
    if since is not None:
        query = query.where(article_versions.c.first_seen_at >= in_utc(since))
    width = len(articles.c)
    for row in reader.execute(query.execution_options(yield_per=500)):
        yield TableRow(articles, row[:width]), TableRow(article_versions, row[width:])


def article_as_dict(
    article: Article | TableRow, version: ArticleVersion | TableRow
) -> dict[str, Any]:
    """The export shape of one article version; published_at in +07:00, other times in UTC."""
    return {
        "url": article.url,
        "site": article.site,
        "article_id": article.article_id,
        "category": article.category,
        "title": version.title,
        "published_at": vietnam_iso(version.published_at),
        "published_raw": version.published_raw,
        "author": version.author,
        "summary": version.summary,
        "body": version.body,
        "images": [dict(image) for image in version.images],
        "fetched_at": version.fetched_at.isoformat(),
        "first_seen_at": article.first_seen_at.isoformat(),
        "last_seen_at": article.last_seen_at.isoformat(),
        "version": version.version,
    }
